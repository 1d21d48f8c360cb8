// Package store keeps campaigns, run records and source archives in
// MongoDB (any MongoDB-wire server, e.g. FerretDB), without transactions.
//
// Campaigns are documents keyed by name with Kubernetes-like metadata:
//   - metadata.uid is new for every created object (a re-created campaign
//     is a different object; its old run records are orphans);
//   - metadata.generation is bumped when, and only when, the spec changes;
//   - metadata.resourceVersion is an integer counter bumped by every write;
//     Update is conditional on {_id, resourceVersion} and fails with
//     ErrConflict when the caller's copy is stale (optimistic concurrency);
//   - status is written through UpdateStatus only, which carries the
//     leader's epoch: a write with an epoch lower than the last status
//     writer's is refused with ErrFenced, so a deposed leader cannot
//     overwrite its successor.
//
// Delete only marks a campaign (metadata.deletionTimestamp; it refuses
// changes with ErrDeleting): its run records are removed by
// DeleteRunBatch, at most DeleteBatch per statement, and the object last
// by FinishDelete. Unless purged, the results of a deleted object stay as
// a schema.ResultSet (collection resultsets, _id = its uid), indexed by its
// completions, until PruneBatch frees them (chunks, then file documents,
// then completions, a bounded number per statement).
//
// Run records (collection runs, _id "<campaign>/<uid>/<run>") are created
// in bulk (unordered InsertMany in chunks; re-creating is idempotent) and
// counted by state with an aggregation. Source archives go into the GridFS
// "sources" bucket as "<sha256>.tar.gz".
//
// Every single-document write is atomic by itself; no operation needs a
// multi-document transaction.
package store
