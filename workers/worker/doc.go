// Package worker is the worker process: a builder or a runner taking tasks
// from the Redis queue the controller fills. It is the worker side's
// counterpart of controller/manager: it wires the task handlers (package
// builder or runner) to an asynq server with the worker's concurrency,
// retry delays and shutdown grace, claims the process's work directory,
// announces the worker with heartbeats, and stops all of it in order.
// `simswarm worker` only parses its flags into a Config; the scale harness
// (test/scale) runs hundreds of the same workers in one process.
//
// # Usage
//
//	ropt, err := redis.ParseURL("redis://manager:6379/0")
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	err = worker.Run(ctx, worker.Config{Role: worker.RoleRun, Redis: ropt,
//		MongoURI: "mongodb://manager:27017/simswarm", Cache: "/var/cache/simswarm",
//		Slots: 8, Prefetch: -1, ShutdownGrace: 10 * time.Second, Log: log})
//
// Run blocks until ctx ends and returns an error only when the worker
// could not start (MongoDB unreachable within 30 s, no work directory, a
// Config field out of range, named in the error). Config.Ready, if set, is
// closed once the worker takes tasks.
//
// # Roles and concurrency
//
// A runner (RoleRun) takes schema.TypeRun tasks from schema.QueueRun and runs
// at most Slots simulations at once; it holds up to Slots+Prefetch tasks,
// so that a slot starts its next simulation while the last one's results
// are being stored (runner.Handler explains why that pays). Its artifacts
// are cached in Cache/artifacts, shared with the host's other runners.
// A builder (RoleBuild) takes schema.TypeBuild tasks from schema.QueueBuild,
// Slots at a time (Prefetch does not apply), with make's parallelism the
// host's CPUs and the distcc host list from Redis (or DistccHosts).
//
// # Runners sized by their node
//
// In a stack, one runner runs per node (a global service) and is started
// with its node's swarm ID (Config.NodeID, SIMSWARM_NODE_ID={{.Node.ID}}).
// It runs as many simulations at once as the count the controller's stack
// reconciler publishes for that node (hash schema.RunnerSlotsKey, field
// the node ID; stackspec.RunnerSlots: the node's CPUs minus the manager's
// reserve, over the runner reservation), and Config.Prefetch is per slot.
// It reads the count every SlotsCheck (5 s):
//
//   - until a count is published, and while it is 0, it takes no tasks
//     (runs no queue server) and its heartbeat says why (Beat.Waiting,
//     0 slots); it never guesses a count;
//   - when the count changes, its queue server is shut down as on
//     shutdown below (running tasks get ShutdownGrace, then go back to
//     the queue) and a new one started with the new count, in the same
//     process (asynq's concurrency is fixed per server);
//   - a count that disappears (Redis restarted empty) or cannot be read
//     changes nothing: the controller publishes again at its next pass;
//   - a count above api.MaxNodeSlots is not one the controller published
//     and is not read: the count is data from the network.
//
// So its processes, queue polls and database connections grow with
// nodes, not CPUs, and it never runs more simulations than its node's
// count.
//
// A slot that finds the queue empty looks again after 100 ms, not asynq's
// 1 s: with short runs the controller's next refill is usually closer than
// that. A task whose handler returned an error (MongoDB or the disk, not
// the simulation: see runner and builder) is retried after 2 s, 4 s, ...,
// at most 30 s, not after asynq's minutes-long default backoff.
//
// # Heartbeats
//
// Every 10 s, and within a second of an idle worker taking a task, the
// worker writes its heartbeat (name, role, slots, the tasks its slots
// carry out) with a 30 s TTL, through package heartbeat, which owns the
// key and the format and whose readers the dashboard, the metrics and the
// controller's count of run slots are: a dead worker's entry expires by
// itself, so they see only live workers. A failing write is logged once
// per outage.
//
// # Shutdown
//
// When ctx ends, in this order:
//
//  1. the heartbeat stops beating (its entry lives on for its TTL);
//  2. the queue server stops taking tasks and gives running tasks
//     ShutdownGrace to finish; a task still running then has its context
//     cancelled (its simulation is killed) and is handed back to the queue,
//     where another worker takes it;
//  3. the heartbeat entry is deleted, so the worker leaves the dashboard
//     at once;
//  4. the queue's and the worker's Redis connections are closed, MongoDB
//     is disconnected, and the work directory is removed.
//
// A worker that dies without this (SIGKILL, a lost node) leaves its tasks
// to asynq's lease: they are redelivered once it runs out. Its work
// directory is removed, and the processes still working in it killed, by
// the next worker that claims one under the same Cache (package workdir).
//
// # Exactly once
//
// A task handed back or redelivered may have been part way through: its
// simulation done, some of its results uploaded. That never counts twice:
// a run's results count only through the one Completion keyed by the run's
// _id that the first finishing attempt inserts, and a later attempt whose
// insert collides removes what it uploaded (see package runner). A build
// is stored under its content key once, and a key already built is not
// built again (package builder). So the shutdown order above decides only
// how soon a task goes on elsewhere, never whose results are kept.
package worker
