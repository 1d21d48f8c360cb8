// Package scale is the control plane's scale harness: one controller (the
// real controller.manager code, in a process of its own so that its CPU and
// memory are its own), one redis-server, one FerretDB (a process, with the
// _id index MongoDB always has; SIMSWARM_SCALE_MAX_WRITES bounds the
// writes it admits at once, since its SQLite backend wedges for good under
// about 100 concurrent updates, which a MongoDB does not), one real builder
// and many simulated
// runners in this process. Builder and runners are `simswarm worker`
// itself (workers/worker.Run: the worker's asynq settings, its own Redis
// and MongoDB connections, its heartbeat, its shutdown order); a simulated
// runner's simulation is a timer (Timer, through worker.Config.Exec)
// instead of a process, so that the 2 cores of a test machine measure what
// the control plane costs per run and per worker, not what processes cost.
//
//	h := scale.Start(tb, scale.Options{IDIndex: true})
//	f := h.Fleet(tb, scale.FleetOptions{Workers: 100, Slots: 16})
//	h.Apply(tb, "bench", 1_000_000, 0)
//	m := h.Measure(tb, f, 10*time.Second, 30*time.Second)
//	fmt.Println(m)
//
// Test binaries using it call ControllerMain first thing in TestMain: the
// controller process is the test binary itself, started again.
//
// Tests and benchmarks only (test/bench/scale.sh); never linked into the
// simswarm binary.
package scale
