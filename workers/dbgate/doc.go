// Package dbgate bounds how many processes of a cluster write to the
// database at once: a counting semaphore held in Redis, which every
// runner already talks to.
//
//	g := &dbgate.Gate{Client: rdb, Key: schema.DBWritersKey, Limit: dbgate.DefaultLimit}
//	release, err := g.Acquire(ctx)
//	if err != nil { ... } // ctx ended while the gate was full
//	defer release()
//	// ... one group commit ...
//
// Why: FerretDB 1.24 (SQLite backend, one writer) holds two of its 100
// pooled SQLite connections for each update command in flight (a query
// iterator, and the write of each matched document), so about 50 runners
// updating at once exhaust the pool; every command then waits for a
// connection and FerretDB stops answering, even reads by _id (the
// million-run campaign after 3,200 runs;
// workers/runner TestManyRunnersStoringAtOnceKeepFerretDBAnswering: 100
// runners, a find by _id unanswered for 10 s after 73 stored runs).
// MongoDB takes more, but gains little from more writers at once either.
//
// Guarantees:
//   - At most Limit holders at once, across every process using the same
//     Redis and Key, while Redis keeps its data.
//   - A holder that dies does not hold forever: each hold is a lease of
//     Lease (a group commit is bounded by a minute), counted by Redis's
//     clock, not the holders'.
//   - Waiting is by polling with a back-off from 1 ms to 50 ms (jittered),
//     and ends with ctx.
//   - If Redis fails (it is down, or too busy to answer in time), Acquire
//     tries again as it polls a full gate; once it has failed for
//     FailWait (10 s), it lets the caller through, with the error for
//     logging: a run's stored results matter more than the bound, and
//     without Redis no task is delivered anyway.
package dbgate
