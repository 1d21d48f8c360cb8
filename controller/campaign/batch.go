package campaign

import (
	"context"
	"time"

	"github.com/simswarm/simswarm/api/schema"
)

// Batched dispatch: when a campaign's runs are short, one task carries
// several of them, which one process executes (opp_run -r a,b,c), so that
// the queue, the database and the process start are paid per batch and
// not per run. The window stays counted in runs.
const (
	// batchWork is about how much work one task carries.
	batchWork = time.Second
	// maxBatch bounds the runs of one task however short they are: a
	// batch that fails is reported run by run, but its task ID and
	// payload grow with it.
	maxBatch = 256
	// firstBatch bounds the runs of one task while nothing is known of
	// the campaign's durations. One run per task made the first wave of
	// a large cluster a flood (2 x 16,000 single-run tasks at 1,000
	// runners of 16 slots, each paying the queue and the database as a
	// whole batch would), yet runs may be long: a slot's first task then
	// holds at most 8 run times before sizes follow the durations.
	firstBatch = 8
	// minBatchWork is the least work a task of known durations carries
	// for the sake of spreading the tail: below it a task's fixed cost
	// (the queue's scripts, the runner's record and commit, a few
	// milliseconds of latency) outweighs the run time it spreads, and
	// cutting tiny runs into tasks of a few runs made a first wave of
	// thousands of tasks (7 runs each at 1,000 runners of 16 slots) that
	// the queue and the database paid per task. It bounds the tail: a
	// slot finishes at most minBatchWork after the others.
	minBatchWork = 100 * time.Millisecond
)

// batchSize is how many runs one task of a campaign carries: about
// batchWork of them by the mean duration of its succeeded runs, or up to
// firstBatch while none has succeeded (nothing is known of a campaign's
// first runs), capped so that what the campaign still has to run spreads
// over every slot at least twice (its tail keeps all slots busy) - but,
// for runs of known duration, never below minBatchWork of them. With the
// slots unknown and no durations, one run per task.
func batchSize(d runDurations, waiting, slots int) int {
	mean, ok := d.mean()
	b, floor := maxBatch, 1
	switch {
	case !ok && slots <= 0:
		return 1
	case !ok:
		b = firstBatch
	case mean > 0:
		b = min(b, int(batchWork/mean))
		floor = int(minBatchWork / mean)
	}
	if slots > 0 {
		b = min(b, max(ceilDiv(waiting, 2*slots), floor), max(waiting, 1))
	}
	return max(b, 1)
}

// batchWindow widens a campaign's share of the window (counted in runs)
// for its batches: to two tasks per slot, as the window's floor gives
// single runs, so that a slot that finishes a batch finds the next one
// queued; never beyond its demand. Only a share that others did not cut
// (the whole window, or the campaign's whole demand) is widened: where
// campaigns of higher priority take part of the window, the shares stay
// as they are.
func batchWindow(window, total, demand, size, slots int) int {
	if window <= 0 || size <= 1 || window < min(demand, total) {
		return window
	}
	return max(window, min(demand, 2*max(slots, 1)*size))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// batches cuts the runs to send into tasks of at most size runs each,
// in their order.
func batches(items []schema.RunItem, size int) [][]schema.RunItem {
	size = max(size, 1)
	var out [][]schema.RunItem
	for len(items) > 0 {
		k := min(size, len(items))
		out = append(out, items[:k:k])
		items = items[k:]
	}
	return out
}

// SetSlots tells Shares how many run slots the workers offer.
func (s *Shares) SetSlots(n int) {
	s.mu.Lock()
	s.slots = n
	s.mu.Unlock()
}

// Slots is what SetSlots said (0: not known).
func (s *Shares) Slots() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slots
}

// FinishedRuns counts n finished runs (a batch's) towards the rate that
// sizes the window.
func (s *Shares) FinishedRuns(n int) {
	s.mu.Lock()
	s.rate.roll(s.now())
	s.rate.cur += max(n, 1)
	s.mu.Unlock()
}

// runDurations is what a campaign's succeeded runs took.
type runDurations struct {
	succeeded int64
	total     time.Duration
}

// mean is the mean duration of a succeeded run; ok is false before any
// run succeeded with a duration (records of older versions, or runs all
// below a millisecond, say none).
func (d runDurations) mean() (time.Duration, bool) {
	if d.succeeded == 0 || d.total <= 0 {
		return 0, false
	}
	return d.total / time.Duration(d.succeeded), true
}

// durationsEvery is how often a campaign's run durations are summed again
// (a pass over its succeeded records). Batch sizes follow them loosely.
const durationsEvery = 30 * time.Second

// durations returns what the succeeded runs of campaign name took, given
// how many succeeded by the counts: summed again when runs first
// succeeded, then every durationsEvery.
func (r *Reconciler) durations(ctx context.Context, s *campaignState, name string, succeeded int64) (runDurations, error) {
	e := s.durations
	if succeeded == 0 || (e.valid && e.d.succeeded > 0 && time.Since(e.at) < durationsEvery) {
		return e.d, nil
	}
	total, err := r.Store.SucceededTime(ctx, name, s.uid)
	if err != nil {
		return runDurations{}, err
	}
	d := runDurations{succeeded: succeeded, total: total}
	s.durations = durationEntry{valid: true, d: d, at: time.Now()}
	return d, nil
}
