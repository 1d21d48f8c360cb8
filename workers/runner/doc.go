// Package runner executes simulation runs taken from the queue
// (jobs.TypeRun tasks): it fetches the campaign's build artifact once per
// key into a local cache, runs the simulation with its timeout, stores the
// result files in GridFS and records the outcome on the run record.
//
//	h := &runner.Handler{DB: db, Cache: runner.NewCache(dir, db), Worker: "node1-3"}
//	mux.HandleFunc(jobs.TypeRun, h.ProcessTask)
//
// Guarantees:
//   - Results are stored exactly once per run: files are uploaded first, then
//     one conditional update marks the run Succeeded; an attempt that finds
//     the run already Succeeded deletes what it uploaded.
//   - A simulation failure (exit status, signal, timeout, no result files) is
//     recorded on the run and is not an error for the queue; an
//     infrastructure failure (MongoDB, GridFS) is returned so that the queue
//     retries the task.
//   - The cache is shared safely by concurrent runner processes on one host:
//     one downloads and unpacks under a file lock, into a temporary directory
//     renamed into place after the artifact's sha256 matched its record.
package runner
