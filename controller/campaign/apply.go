package campaign

import (
	"context"
	"sort"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// apply carries out what Compute decided for campaign c, in this order:
// its demand on the dispatch window, unqueueing, sending failed runs back
// to Pending, skipping, starting the build, dispatching, creating run
// records. The status is not its business (Reconcile writes it on the way
// out).
func (r *Reconciler) apply(ctx context.Context, s *campaignState, c *api.Campaign, o Observed, d Desired, live map[int]string) error {
	name, uid := c.Metadata.Name, c.Metadata.UID
	created := time.Time{}
	if c.Metadata.CreationTimestamp != nil {
		created = *c.Metadata.CreationTimestamp
	}
	r.Shares.SetDemand(name, c.Spec.Priority, created, d.Demand)
	if d.Unqueue {
		// The records of unqueued runs still say Pending: nothing to undo,
		// but they are behind the dispatch frontier now.
		if _, err := r.tasks().Unqueue(ctx, name, uid, false); err != nil {
			return err
		}
		s.frontier.rescan = true
		r.Shares.Forget(name)
	}
	if len(d.Retry) > 0 {
		if err := r.retry(ctx, s, d.Retry); err != nil {
			return err
		}
	}
	if d.Stop != nil && len(d.Stop.Skip) > 0 {
		if err := r.skip(ctx, s, c, d.Stop.Skip); err != nil {
			return err
		}
	}
	if d.StartBuild {
		if err := r.Store.EnsureBuild(ctx, o.BuildKey); err != nil {
			return err
		}
		sim := c.Spec.Simulation // the builder lists the runs with the built program
		if err := r.tasks().EnqueueBuild(ctx, schema.BuildTask{Campaign: name, UID: uid, Key: o.BuildKey,
			Source: c.Spec.Source, Build: c.Spec.Build, Simulation: &sim}); err != nil {
			return err
		}
	}
	// Dispatch before the next chunk of records: the runs whose records
	// exist go out first (creating a chunk of 5,000 records took about a
	// second on FerretDB, which the first task of a million-run campaign
	// waited for).
	var err error
	switch {
	case d.Dispatch > 0 && d.Stop != nil:
		err = r.dispatchStop(ctx, c, o, d.Stop.Order, d.Dispatch, d.BatchSize)
	case d.Dispatch > 0:
		err = r.dispatch(ctx, s, c, o, d, live)
	}
	if err != nil {
		return err
	}
	if d.CreateRuns && needRecords(s, int(o.Counts.Total)) {
		runs, _, err := r.expand(ctx, s, c, o.Build)
		if err != nil {
			return err
		}
		if start, end := chunkBounds(int(o.Counts.Total), len(runs)); start < end {
			n, reused, err := r.createRuns(ctx, s, c, o, runs[start:end])
			before := s.counts.c.Total
			s.counts.c.Total += int64(n) // the controller's own transition: the count stays good
			// A count costs per record (FerretDB decodes each), and the
			// counts are kept for ten times what the last one cost: scaled
			// to the records now, or a count of none (the first pass's)
			// would have the next passes count the records just created.
			s.counts.cost = s.counts.cost * time.Duration(s.counts.c.Total) / time.Duration(max(before, 1))
			s.counts.c.Pending += int64(n - reused)
			s.counts.c.Succeeded += int64(reused)
			s.counts.c.Reused += int64(reused)
			if err != nil {
				return err
			}
			if k := min(d.DispatchCreated, n-reused); k > 0 && d.Stop == nil {
				return r.dispatchCreated(ctx, s, c, o, d, live, k, n)
			}
		}
	}
	return nil
}

// dispatchCreated enqueues k of the n records this pass just created,
// the window the records not yet created left (Desired.DispatchCreated):
// without it a campaign's first runs waited a whole pass more (about
// 0.2-0.4 s in the million-run apply) after their records existed.
func (r *Reconciler) dispatchCreated(ctx context.Context, s *campaignState, c *api.Campaign, o Observed, d Desired, live map[int]string, k, n int) error {
	if f := &s.frontier; !f.known && o.Counts.Total == 0 {
		// No record existed before this pass (a count this leader keeps
		// good itself): none was dispatched, and the frontier is the
		// list's start, not a scan of the records. A hint like any
		// frontier: a run sent twice is in the queue (skipped) or has its
		// outcome (the worker skips it).
		f.next, f.known, f.rescan = 0, true, false
	}
	o.Counts.Total += int64(n)
	o.CountsFresh = false // the pending count is the frontier's to explain
	d.Dispatch = k
	return r.dispatch(ctx, s, c, o, d, live)
}

// retry sends the Failed runs ids back to Pending (each only if it still
// is Failed).
func (r *Reconciler) retry(ctx context.Context, s *campaignState, ids []string) error {
	for _, id := range ids {
		ok, err := r.Store.SetRunState(ctx, id, schema.RunFailed, schema.RunPending, "")
		if err != nil {
			return err
		}
		if ok {
			s.counts.c.Failed-- // the controller's own transition
			s.counts.c.Pending++
			s.frontier.rescan = true // behind the dispatch frontier
		}
	}
	return nil
}

// Run records are created in chunks, one per pass: a small first chunk so
// the first runs dispatch at once, then createPerPass at a time.
const (
	firstChunk    = 1000
	createPerPass = 5000
)

// chunkBounds returns the chunk of the expanded run list that follows
// created records. Records are created in order, so created is a prefix
// (a chunk cut short by an error is redone; duplicates are ignored).
func chunkBounds(created, total int) (start, end int) {
	if created < firstChunk {
		return 0, min(firstChunk, total)
	}
	start = firstChunk + (created-firstChunk)/createPerPass*createPerPass
	return start, min(start+createPerPass, total)
}

// dispatch enqueues d.Dispatch Pending runs without a task, in batches
// of d.BatchSize runs, and moves the frontier past them.
func (r *Reconciler) dispatch(ctx context.Context, s *campaignState, c *api.Campaign, o Observed, d Desired, live map[int]string) error {
	n := d.Dispatch
	name, uid := c.Metadata.Name, c.Metadata.UID
	runs, _, err := r.expand(ctx, s, c, o.Build)
	if err != nil {
		return err
	}
	created := min(int(o.Counts.Total), len(runs))
	pending := int64(-1)
	if o.CountsFresh {
		pending = o.Counts.Pending
	}
	f := &s.frontier
	// idx is the run's place in the expanded list (-1: not in it).
	type candidate struct{ run, attempts, idx int }
	var cands []candidate
	complete := false // cands hold every Pending record
	if f.needsScan(pending, created, len(live)) {
		// Unsorted: with a limit, the server stops at the first matches
		// instead of sorting every pending record.
		recs, err := r.Store.Runs(ctx, store.RunQuery{Campaign: name, UID: uid, State: schema.RunPending, After: -1,
			Limit: n + len(live), Unsorted: true})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			idx := sort.SearchInts(runs, rec.Run)
			if idx == len(runs) || runs[idx] != rec.Run {
				idx = -1
			}
			cands = append(cands, candidate{rec.Run, rec.Attempts, idx})
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].run < cands[j].run })
		f.known, f.rescan = true, false
		complete = len(recs) < n+len(live)
	} else {
		i := f.next
		for ; i < created && len(cands) < n+len(live); i++ {
			if s.reuse.reused.has(runs[i]) {
				continue // reused: succeeded already
			}
			cands = append(cands, candidate{run: runs[i], idx: i}) // never dispatched: no attempts yet
		}
		complete = i == created // every run past the frontier is here
	}
	timeout := c.Spec.Timeout
	if timeout.Duration <= 0 {
		timeout.Duration = time.Hour
	}
	// The record stays Pending: the task in the queue is what says the run
	// is queued or running, and a lost task needs no repair (a later pass
	// sends the run again). Writing Queued on every record would cost an
	// update per run, which FerretDB's SQLite backend pays with a scan of
	// the collection.
	proto := schema.RunTask{Campaign: name, UID: uid, ArtifactKey: o.BuildKey, Simulation: c.Spec.Simulation,
		Results: c.Spec.Results, Timeout: timeout}
	size := max(d.BatchSize, 1)
	var batch []schema.RunItem
	next := f.next // the frontier once batch is sent
	send := func() error {
		if len(batch) > 0 {
			if err := r.tasks().EnqueueRun(ctx, proto.Batch(batch)); err != nil {
				return err
			}
			batch = nil
		}
		f.next = next
		return nil
	}
	sent, examined := 0, 0
	for _, cd := range cands {
		if sent >= n {
			break
		}
		examined++
		if _, ok := live[cd.run]; !ok {
			batch = append(batch, schema.RunItem{Run: cd.run, Attempt: cd.attempts})
			sent++
		}
		// Past this run everything not yet looked at is undispatched.
		if cd.idx >= 0 && cd.idx+1 > next {
			next = cd.idx + 1
		}
		if len(batch) == size {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := send(); err != nil {
		return err
	}
	if complete && examined == len(cands) {
		// Every Pending record is dispatched or in the queue.
		f.next = created
	}
	return nil
}
