// Package schema is the contract between the controller and the workers:
// the asynq task types, queues and payloads they exchange through Redis,
// and the MongoDB/GridFS records and names they share. Neither side owns
// it; both import it, and nothing in it does I/O but Connect and
// UpdateInCommands (how a bulk update is sent, see UpdatesPerCommand).
//
// # Tasks
//
// A BuildTask (TypeBuild, QueueBuild) asks a builder to build a campaign's
// source and store the artifact under its content key (BuildKey); its asynq
// TaskID is BuildTaskID(key). A RunTask (TypeRun, QueueRun) asks a runner to
// execute one run, or for short runs several (a batch: RunTask.Runs, built
// with RunTask.Batch and read back with RunTask.Items). Payloads are JSON
// (Marshal). The task ID of one attempt of a run is RunTaskID(...); a batch's
// is RunTask.TaskID, naming its runs as ranges (FormatRuns, ParseRuns), so
// that Redis refuses a duplicate of a live task.
//
// In a queue listing a run task is TaskActive when its simulation runs,
// TaskHeld when a runner holds it without a free slot; a runner writes
// TaskStarted as the task's result when the simulation takes a slot.
//
// # Records
//
// The database is the path of the mongodb:// URI (DatabaseName, default
// "simswarm"); Connect opens it. Collections and buckets are named by the
// Coll* and Bucket* constants; RunID, ResultName, ArtifactName and
// SourceName give the _id and GridFS file names.
//
// The controller creates run records (Pending), enqueues a task per run,
// or per batch, and decides retries. A record stays Pending while its task
// is queued or running: the queue says which, and nothing writes the record
// until the outcome. A runner stores the result files, inserts the run's
// Completion (keyed by the run's _id, so of concurrent or late attempts
// exactly one succeeds), then sets the record Succeeded from it
// (Completion.RecordFields); a simulation failure sets it Failed. A batch
// does the same for each of its runs. Builders move a BuildRecord (keyed by
// BuildKey) to Succeeded once its artifact is in GridFS. A deleted campaign
// whose results are kept leaves a ResultSet (ResultSetDeleting, then
// ResultSetKept until pruned: ResultSetPruning).
//
// # Redis names
//
// DistccHostsKey holds the distcc host list the stack reconciler publishes,
// RunnerSlotsKey each node's runner slot count;
// ChangesChannel carries an Announcement of the campaigns whose runs
// finished, a BuildAnnouncement of a campaign whose build ended, or a
// ChangeAnnouncement of a campaign changed outside the leader
// (ParseAnnouncement reads all three).
// A worker's heartbeat key and entry are package workers/heartbeat's.
//
// # Guarantees
//
// The bson and JSON field names, the task type and queue names, the task ID
// forms and the key and file names are what deployed controllers and
// workers of this version read and write: changing any of them is a change
// of the stored and queued data, not a refactoring. BuildKey depends only on
// the source digest, the build recipe and the toolchain image. ParseRuns
// refuses lists that expand to more than a million runs.
package schema
