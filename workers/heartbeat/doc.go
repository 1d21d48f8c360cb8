// Package heartbeat is how a worker tells the controller it is alive and
// what it is doing: the one owner of the heartbeat's Redis key, its JSON
// format, its writer and its readers.
//
// A worker (package workers/worker) writes; the controller's dashboard,
// its metrics and its campaign controller (which sizes the queue window by
// the live runners' slots) read:
//
//	w := heartbeat.NewWriter(rdb, "node1-run-1234", heartbeat.RoleRun, 8, log)
//	h := &runner.Handler{..., Track: w.Track}
//	go w.Run(ctx)     // beats until ctx ends
//	...
//	w.Withdraw(ctx)   // after Run returned: gone at once, not a TTL later
//
//	beats, err := heartbeat.Read(ctx, rdb)     // every live worker, by name
//	slots, err := heartbeat.Reader{Client: rdb}.RunSlots(ctx)
//
// # Format
//
// A worker's heartbeat is the JSON of a Beat (name, role, slots, the tasks
// its slots carry out, when it last took one) under Key(name), that is
// KeyPrefix followed by the name, with a TTL. No other package spells the
// key or parses the entry.
//
// # Guarantees
//
//   - A live worker's entry is rewritten every Every with a TTL of TTL,
//     so a dead worker's entry disappears within TTL of its death and
//     readers see only live workers.
//   - A task taken by an idle worker shows within a second (pokeGap), not
//     at the next periodic beat: run records are not written before the
//     outcome, so the heartbeat is where a run shows as started. Beats
//     caused by tasks come at most one a second.
//   - A failing write is logged once per outage, and the writer keeps
//     beating; Run never returns before ctx ends.
//   - Read costs one SCAN pass and one MGET plus one pipelined PTTL per
//     500 keys: a thousand workers are read in a few round trips. An
//     entry that is not a heartbeat's JSON is skipped; one that names no
//     worker is named by its key.
//   - RunSlots counts each live runner's slots, at least one each, none
//     of a runner that says it is Waiting (its node's slot count not yet
//     published, or 0), and no builder's.
//   - SetSlots (a runner re-sized to its node's published count) shows
//     within a second, like a task taken by an idle worker.
package heartbeat
