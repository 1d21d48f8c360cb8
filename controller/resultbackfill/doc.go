// Package resultbackfill indexes the runs the result index is missing: a
// leader-only component of the controller (a manager Runnable) that, every
// Every, looks at each campaign with Succeeded runs and has the store index
// those with no result index document (store.BackfillResultIndex: runs
// stored before indexing existed, or whose worker stopped between storing
// and indexing), from their .sca files in GridFS.
//
//	mgr.Add(&resultbackfill.Backfiller{Store: st, Log: log})
//
// Guarantees:
//   - Bounded: a pass indexes at most Limit runs over all campaigns; what
//     is left waits for the next pass.
//   - Exactly once: a run already in the index is left alone, and an index
//     document's _id is its run's (see package resultindex).
//   - Never a run's or a campaign's failure: a malformed .sca is reported on
//     its run (resultIndex.error), which stays Succeeded; a pass that fails
//     is logged and tried again.
//   - Cheap when there is nothing to do: a campaign found complete is not
//     looked at again until its Succeeded count changes, and a running
//     campaign (runs stored within Grace, which their runners index) at
//     most every Recheck.
package resultbackfill
