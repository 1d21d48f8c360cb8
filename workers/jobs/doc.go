// Package jobs is the contract between the controller and the workers: the
// asynq task types and payloads, and the MongoDB/GridFS schema of run and
// build records (see /tmp/team/CORE.md, issue 3).
//
// The controller creates run records (Pending), sets Queued when it
// enqueues a task whose asynq TaskID is RunTaskID(...) (so duplicates are
// refused by Redis), and decides retries. Runners move a record to Running,
// then to Succeeded or Failed with one conditional update
// ({_id, state: {$ne: Succeeded}}), so results are recorded exactly once.
// Builders move a BuildRecord (keyed by BuildKey) to Succeeded once its
// artifact is in GridFS.
package jobs
