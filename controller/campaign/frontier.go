package campaign

// frontier is how far into a campaign's expanded run list this controller
// has dispatched. Records are created Pending in expansion order, and only
// a dispatch sends them anywhere, so the runs past the frontier can be
// dispatched from the expansion without reading their records: the query
// for Pending records scans every record before the first match on
// FerretDB's SQLite backend (any filter but a lone _id is decoded record by
// record), which on a campaign half done is half the campaign per pass.
//
// The frontier is a hint, never the truth. A run behind it that is Pending
// again without a task (a retry, a lost task, an unqueued one) is found by
// a scan, which a pass does when it has no frontier (a new leader, a new
// generation), when it was told to (rescan: after a repair or an unqueue),
// or when a fresh count shows more Pending records than the queue and the
// runs past the frontier explain. (Tasks whose records already say
// Succeeded can hide such a run from one count; a campaign's counts are
// fresh whenever its queue is empty, so it is found by the end.) A run past
// the frontier that another leader dispatched already is either in the
// queue (skipped) or has its outcome recorded (the worker skips it).
type frontier struct {
	next   int  // index into the expanded runs of the next undispatched run
	known  bool // next is meaningful
	rescan bool // scan before using next
}

// needsScan reports whether a dispatch must query the records: pending is
// the fresh count of Pending records (-1 if the count is cached), created
// how many records exist, inflight how many of the campaign's tasks are in
// the queue.
func (f frontier) needsScan(pending int64, created, inflight int) bool {
	if !f.known || f.rescan {
		return true
	}
	// Pending records are the ones past the frontier plus the ones in
	// flight; any more are behind the frontier without a task.
	return pending >= 0 && pending > int64(created-f.next+inflight)
}
