package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// ErrInvalid marks an error as the spec's fault: terminal, not retried.
var ErrInvalid = errors.New("invalid campaign")

// Expander lists the run numbers a campaign selects, ascending. Errors
// wrapping ErrInvalid are terminal. It may return (nil, nil, false) when
// the runs can only be known later (after the build).
type Expander interface {
	Expand(ctx context.Context, c *api.Campaign, build *schema.BuildRecord) (runs []int, known bool, err error)
}

// Reconciler reconciles one campaign per call.
type Reconciler struct {
	Store    *store.Store
	Tasks    TaskQueue
	Expander Expander
	Shares   *Shares
	// Epoch is the leader epoch that fences status writes.
	Epoch  int64
	Logger *zap.Logger
	Now    func() time.Time
	// DeleteBatch is how many run records one statement of a delete
	// removes (default store.DeleteBatch); DeletePassBudget how long one
	// pass of a delete goes on before it writes its progress and yields
	// (default 2s; at least one batch).
	DeleteBatch      int
	DeletePassBudget time.Duration

	mu     sync.Mutex
	states map[string]*campaignState // by name
}

const maxCountAge = 30 * time.Second

// counts returns the campaign's run counts, and whether they were just
// counted (fresh) rather than taken from its state.
func (r *Reconciler) counts(ctx context.Context, s *campaignState, name string, force bool) (api.RunCounts, bool, error) {
	e := s.counts
	if e.valid && !force && r.now().Sub(e.at) < min(10*e.cost, maxCountAge) {
		return e.c, false, nil
	}
	start := time.Now()
	c, err := r.Store.RunCounts(ctx, name, s.uid)
	if err != nil {
		return c, false, err
	}
	s.counts = countEntry{valid: true, c: c, at: r.now(), cost: time.Since(start)}
	return c, true, nil
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

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// tasks is the queue, its errors marked as the queue's.
func (r *Reconciler) tasks() TaskQueue { return reasonedQueue{r.Tasks} }

func (r *Reconciler) log() *zap.Logger {
	if r.Logger == nil {
		return zap.NewNop()
	}
	return r.Logger
}

// Reconcile brings campaign name one step closer to its spec. It returns
// when to look again (0 = no need).
func (r *Reconciler) Reconcile(ctx context.Context, name string) (after time.Duration, err error) {
	if uid, ok := strings.CutPrefix(name, PruneKeyPrefix); ok {
		return r.prune(ctx, uid)
	}
	c, err := r.Store.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return r.cleanup(ctx, name)
	}
	if err != nil {
		return 0, err
	}
	if c.Metadata.DeletionTimestamp != nil {
		return r.finalize(ctx, c)
	}
	// From here on, every return writes the status once: what the pass
	// computed, or what it had, with the error that ended it.
	var want *Desired
	defer func() { err = r.writeStatus(ctx, c, want, err) }()
	return r.reconcile(ctx, c, &want)
}

func (r *Reconciler) reconcile(ctx context.Context, c *api.Campaign, want **Desired) (time.Duration, error) {
	name, uid := c.Metadata.Name, c.Metadata.UID
	if c.Status.ObservedGeneration == 0 {
		// First look at this object: a previous campaign of the same name
		// may have left records and tasks (a delete now finishes before
		// the name can be used again; this is for older versions' leftovers).
		if _, err := r.tasks().Unqueue(ctx, name, uid, true); err != nil {
			return 0, err
		}
		left, err := r.removeOrphans(ctx, store.RunSelector{Campaign: name, NotUID: uid})
		if err != nil {
			return 0, err
		}
		if left {
			return deleteAgain, nil
		}
	}

	s := r.stateFor(name, uid, c.Metadata.Generation)
	o := Observed{Generation: c.Metadata.Generation, Spec: c.Spec, Status: c.Status, Expanded: -1, Now: r.now().UTC(),
		SourceRevision: c.Metadata.Annotations[AnnotationSourceRevision]}
	if err := api.Validate(c); err != nil {
		o.SpecErr = err
	}
	if o.SpecErr == nil {
		o.BuildKey = schema.BuildKey(sourceDigest(c.Spec.Source), c.Spec.Build)
		b, err := r.Store.GetBuild(ctx, o.BuildKey)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return 0, err
		default:
			o.Build = b
		}
		runs, known, err := r.expand(ctx, s, c, o.Build)
		switch {
		case errors.Is(err, ErrInvalid):
			o.SpecErr = err
		case err != nil:
			return 0, err
		case known:
			o.Expanded = len(runs)
		}
	}
	if o.SpecErr != nil {
		d := Compute(o)
		*want = &d
		return r.apply(ctx, s, c, o, d, nil)
	}

	var err error
	buildDone := o.Build != nil && o.Build.State == schema.BuildSucceeded
	var live map[int]string
	buried := 0
	if buildDone {
		if live, err = r.tasks().RunTasks(ctx, name, uid); err != nil {
			return 0, err
		}
		if buried, err = r.buryDeadRuns(ctx, name, uid); err != nil {
			return 0, err
		}
		if o.Failure, err = r.retrying(ctx, name, uid, live); err != nil {
			return 0, err
		}
	}
	// Nothing in flight: the campaign may just have finished, count now
	// (unless runs were never dispatched: then dispatch is only behind).
	mayBeDone := len(live) == 0 && mayBeFinished(s, o.Expanded)
	counts, fresh, err := r.counts(ctx, s, name, buildDone && (mayBeDone || buried > 0))
	if err != nil {
		return 0, err
	}
	o.Counts, o.CountsFresh = counts, fresh
	if buildDone && !c.Spec.Suspend && fresh {
		changed, failed, err := r.repair(ctx, c, o.Counts)
		if err != nil {
			return 0, err
		}
		if failed != nil {
			o.Failure = failed
		}
		if changed {
			// Runs sent back to Pending are behind the dispatch frontier.
			s.frontier.rescan = true
			if o.Counts, _, err = r.counts(ctx, s, name, true); err != nil {
				return 0, err
			}
		}
	} else if !buildDone && o.Build != nil && o.Build.State != schema.BuildFailed {
		if o.BuildTaskQueued, err = r.tasks().BuildQueued(ctx, o.BuildKey); err != nil {
			return 0, err
		}
		if o.Build, o.Failure, err = r.buildFailure(ctx, name, o.Build); err != nil {
			return 0, err
		}
	}
	o.Inflight = len(live)
	for _, st := range live {
		if st == schema.TaskActive {
			o.Active++
		}
	}
	demand := int(o.Counts.Pending + o.Counts.Queued + o.Counts.Running)
	if o.Expanded > int(o.Counts.Total) {
		demand += o.Expanded - int(o.Counts.Total)
	}
	if p := int(c.Spec.Parallelism); p > 0 && demand > p {
		demand = p
	}
	if c.Spec.Suspend || !buildDone {
		demand = 0
	}
	created := time.Time{}
	if c.Metadata.CreationTimestamp != nil {
		created = *c.Metadata.CreationTimestamp
	}
	o.Window = r.Shares.Window(name, c.Spec.Priority, created, demand)
	if o.Window > 0 {
		size, err := r.batchFor(ctx, s, name, o)
		if err != nil {
			return 0, err
		}
		o.Window = batchWindow(o.Window, r.Shares.Total(), demand, size, r.Shares.Slots())
	}
	d := Compute(o)
	*want = &d
	return r.apply(ctx, s, c, o, d, live)
}

func sourceDigest(s api.SourceSpec) string {
	if s.Git != nil {
		return "git:" + s.Git.URL + "@" + s.Git.Commit
	}
	return "archive:" + s.Archive
}

func (r *Reconciler) expand(ctx context.Context, s *campaignState, c *api.Campaign, b *schema.BuildRecord) ([]int, bool, error) {
	if s.expansion.known {
		return s.expansion.runs, true, nil
	}
	runs, known, err := r.Expander.Expand(ctx, c, b)
	if err != nil {
		return nil, false, err
	}
	s.expansion = expansion{runs: runs, known: known}
	return runs, known, nil
}

func maxAttempts(spec api.CampaignSpec) int {
	retries := 2
	if spec.Retries != nil {
		retries = int(*spec.Retries)
	}
	return 1 + retries
}

// repair sends retryable Failed runs back to Pending. It reports whether it changed anything, and the latest
// failed attempt it sent back.
func (r *Reconciler) repair(ctx context.Context, c *api.Campaign, counts api.RunCounts) (bool, *Failure, error) {
	name, uid := c.Metadata.Name, c.Metadata.UID
	changed := false
	var latest *schema.RunRecord
	if counts.Failed > 0 {
		failed, err := r.Store.Runs(ctx, store.RunQuery{Campaign: name, UID: uid, State: schema.RunFailed, After: -1,
			MaxAttempts: maxAttempts(c.Spec), Limit: 1000})
		if err != nil {
			return false, nil, err
		}
		for i, f := range failed {
			ok, err := r.Store.SetRunState(ctx, f.ID, schema.RunFailed, schema.RunPending, "")
			if err != nil {
				return changed, nil, err
			}
			changed = changed || ok
			if ok && (latest == nil || f.UpdatedAt.After(latest.UpdatedAt)) {
				latest = &failed[i]
			}
		}
	}
	var failure *Failure
	if latest != nil {
		failure = attemptFailed(*latest)
	}
	return changed, failure, nil
}

func (r *Reconciler) apply(ctx context.Context, s *campaignState, c *api.Campaign, o Observed, d Desired, live map[int]string) (time.Duration, error) {
	name, uid := c.Metadata.Name, c.Metadata.UID
	if d.Unqueue {
		// The records of unqueued runs still say Pending: nothing to undo,
		// but they are behind the dispatch frontier now.
		if _, err := r.tasks().Unqueue(ctx, name, uid, false); err != nil {
			return 0, err
		}
		s.frontier.rescan = true
		r.Shares.Forget(name)
	}
	if d.CreateRuns && needRecords(s, int(o.Counts.Total)) {
		runs, _, err := r.expand(ctx, s, c, o.Build)
		if err != nil {
			return 0, err
		}
		if start, end := chunkBounds(int(o.Counts.Total), len(runs)); start < end {
			n, err := r.Store.CreateRuns(ctx, name, uid, runs[start:end])
			s.counts.c.Total += int64(n) // the controller's own transition: the count stays good
			s.counts.c.Pending += int64(n)
			if err != nil {
				return 0, err
			}
		}
	}
	if d.StartBuild {
		if err := r.Store.EnsureBuild(ctx, o.BuildKey); err != nil {
			return 0, err
		}
		sim := c.Spec.Simulation // the builder lists the runs with the built program
		if err := r.tasks().EnqueueBuild(ctx, schema.BuildTask{Campaign: name, UID: uid, Key: o.BuildKey,
			Source: c.Spec.Source, Build: c.Spec.Build, Simulation: &sim}); err != nil {
			return 0, err
		}
	}
	if d.Dispatch > 0 {
		if err := r.dispatch(ctx, s, c, o, d.Dispatch, live); err != nil {
			return 0, err
		}
	}
	return d.Requeue, nil
}

func (r *Reconciler) dispatch(ctx context.Context, s *campaignState, c *api.Campaign, o Observed, n int, live map[int]string) error {
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
		for i := f.next; i < created && len(cands) < n+len(live); i++ {
			cands = append(cands, candidate{run: runs[i], idx: i}) // never dispatched: no attempts yet
		}
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
	size, err := r.batchFor(ctx, s, name, o)
	if err != nil {
		return err
	}
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

// cleanup removes what a campaign gone without finalizing left (deleted
// by an older version): queued tasks and, a bounded pass at a time, run
// records. Their results are kept as result sets.
func (r *Reconciler) cleanup(ctx context.Context, name string) (time.Duration, error) {
	r.forget(name)
	if _, err := r.tasks().Unqueue(ctx, name, "", false); err != nil {
		return 0, fmt.Errorf("unqueue deleted %s: %w", name, err)
	}
	left, err := r.removeOrphans(ctx, store.RunSelector{Campaign: name})
	if err != nil || !left {
		return 0, err
	}
	return deleteAgain, nil
}
