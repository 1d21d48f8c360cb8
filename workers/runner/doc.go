// Package runner executes simulation runs taken from the queue
// (schema.TypeRun tasks): it fetches the campaign's build artifact once per
// key into a local cache, runs the simulation with its timeout, stores the
// result files in GridFS and records the outcome on the run record.
//
//	h := &runner.Handler{DB: db, Cache: runner.NewCache(dir, db), Worker: "node1-3", Slots: 4}
//	mux.HandleFunc(schema.TypeRun, h.ProcessTask) // with asynq concurrency 2×Slots
//
// Slots bounds the simulations running at once; the queue's concurrency
// should be larger, since a task storing its results holds no slot. Tasks
// storing at once share their database commands (a group commit): one
// insert of chunks, one of file documents, one of completions and one bulk
// update of run records for all of them, with no timer holding any back.
// With Handler.Gate (dbgate, as simswarm worker sets it), a commit writes
// only while it holds a place of the cluster's database writers' gate (8
// at once), so that many runners storing at once queue in Redis instead
// of exhausting FerretDB's connections (it then stopped answering at all).
//
// Each simulation is a process (procexec); Handler.Exec replaces that for
// tests only (the scale harness, test/scale, simulates runs with timers).
//
// A task of several runs (a batch, schema.RunTask.Runs) runs them in one
// process, as opp_runall -b does (opp_run -s -r a,b,c; one slot, for the
// process's time), and writes the completions of the runs it finished
// together, one command per collection. Each run of a batch is still a run
// of its own: its files are those whose result-file header names it (or
// the .out its header names, or a headerless file sharing a name stem with
// one of its files), never guessed from names; its completion, attempt and
// failure are its own.
//
// Each attempt runs in a private tree (linkTree): the artifact's
// directories made anew, its files linked from the cache. The program is
// started as opp_runall and the local executor start it (oppcli.RunArgv),
// with no result directory of simswarm's, so it writes where its ini says
// and its files carry the metadata they would anywhere else.
//
// Guarantees:
//   - A run's result files are what the program created in its own tree
//     and the campaign's globs match, never a link, never a file of the
//     cache or of another run; each is stored under its path below the
//     glob's leading directories (results/Cfg/x=1/rep0.sca: Cfg/x=1/rep0.sca),
//     a relative path of safe names (resultfiles.SafePath) or the run fails
//     naming it. With several runs in one process, files go to runs by
//     what their headers say (resultfiles.Attribute), as in the local
//     executor. A failed run's "<!> Error -- see FILE" is replaced by FILE's
//     error lines, read inside the tree only.
//   - Results are stored exactly once per run: files are uploaded first, then
//     a Completion keyed by the run's _id is inserted (it can succeed once),
//     then the run record is set from it; an attempt whose insert collides
//     deletes what it uploaded and settles the record from the completion
//     already there.
//   - A run in flight reads nothing and writes nothing but inserts until
//     its outcome: one update then records Succeeded or Failed (the queue,
//     not the record, says a run is queued or running; the task carries
//     the attempts so far). Only a redelivered task reads the run's
//     completion and record first. When its simulation takes a slot the
//     runner marks the task started in the queue (schema.TaskStarted): a
//     task held beyond the slots counts as queued, not running, and the
//     heartbeat lists only the tasks the slots run.
//   - Every delivery ends with an outcome on the run record or hands the
//     task back to the queue, never neither. A simulation failure (exit
//     status, signal, timeout, no result files), a refusal (an artifact
//     that cannot be used, a result file name that cannot be stored), a
//     panic, and any error on the task's last delivery are recorded as a
//     failed attempt with the reason as its message (the controller's
//     retries decide what next) and are no error for the queue; any other
//     error (MongoDB, GridFS, the local disk) is returned so that the queue
//     retries the task. Each failure is logged once, at warning level. A
//     task the queue still gives up on (an unreadable payload, an outcome
//     that could not be written) is recorded by the controller.
//   - A stored run's .sca files are indexed (package resultindex): the
//     group commit writes the index documents of the runs whose completion
//     it stored, right after the completions, and sets the run record's
//     resultIndex (values indexed, records skipped, error). A malformed
//     .sca or a failed index write is told there and never fails the run;
//     a crash between the completions and the index write leaves the run
//     without an index document and without resultIndex on its record.
//   - A run starts in spec.simulation.workingDir inside the unpacked
//     artifact; one the artifact does not have is a refusal naming the
//     field.
//   - An artifact streams from GridFS into a file (its sha256 taken on
//     the way) and from that file into the unpacked tree: memory does not
//     grow with its size (a 200 MB artifact peaks under 50 MiB resident,
//     TestLargeArtifactStreamsWithBoundedMemory).
//   - A batch's process that dies part way (a signal, a timeout, an error
//     of one run) keeps the runs Cmdenv announced before the one that was
//     running (their files are stored, once); that run is recorded as a
//     failed attempt of its own; the runs it kept from starting go again in
//     a new process within the task, without losing an attempt. A batch
//     delivered again skips the runs whose completion is stored. Where a
//     batch cannot tell whose a file is (a file no rule attributes, or a
//     process that failed before announcing any run) the task runs its
//     runs one process each, and this runner keeps doing so for the
//     campaign: no file is ever credited to the wrong run.
//   - The cache is shared safely by concurrent runner processes on one host:
//     one downloads and unpacks under a file lock, into a temporary directory
//     renamed into place after the artifact's sha256 matched its record.
package runner
