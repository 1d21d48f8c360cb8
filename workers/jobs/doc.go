// Package jobs is the contract between the controller and the workers: the
// asynq task types and payloads, and the MongoDB/GridFS schema of run and
// build records.
//
// The controller creates run records (Pending), enqueues a task per run
// under the asynq TaskID RunTaskID(...) (so Redis refuses duplicates), or
// for short runs a task of several (RunTask.Runs, ID RunTask.TaskID naming
// its runs as ranges), and decides retries. A record stays Pending while its task is queued or
// running: the queue says which, and nothing writes the record until the
// outcome. A runner stores the result files, inserts the run's Completion
// (keyed by the run's _id, so of concurrent or late attempts exactly one
// succeeds), then sets the record Succeeded from it; a simulation failure
// sets it Failed. A batch does the same for each of its runs. Builders move a BuildRecord (keyed by BuildKey) to
// Succeeded once its artifact is in GridFS.
package jobs
