package local

import (
	"math"
	"sync"
	"time"
)

// schedule hands out a sweep's pending runs in order, one batch per
// process, each sized when a slot is free. With a fixed size (an explicit
// -b, as opp_runall -b) every batch has that many runs but the last.
// Otherwise a batch has opp_runall's default size while much is left, and
// fewer runs towards the end of the sweep, sized from the durations
// observed so far so that the slots finish together: opp_runall's last
// batch of 5 runs on one slot while the others idle. A free slot takes
// its share of what is left: the runs not handed out and the expected rest
// of the processes still running, (left + Σ rest / d) / jobs runs, d the
// mean duration of the runs finished so far (their processes' start-up
// included); before any run has finished, opp_runall's size. A sweep whose
// runs all fit in the first batches (runs <= jobs x size) keeps
// opp_runall's batches. Safe for concurrent use.
type schedule struct {
	mu      sync.Mutex
	pending []int
	size    int
	jobs    int
	fixed   bool
	running map[*flight]bool
	// took and ran sum the durations of the runs finished so far.
	took time.Duration
	ran  int
}

// flight is a batch handed out whose process has not ended.
type flight struct {
	start time.Time
	runs  int
}

// newSchedule plans pending on jobs slots: batches of batchSize runs
// (fixed), or, with batchSize 0, opp_runall's default size shrinking
// towards the end.
func newSchedule(pending []int, batchSize, jobs int) *schedule {
	s := &schedule{pending: pending, size: batchSize, jobs: max(jobs, 1), fixed: batchSize > 0, running: map[*flight]bool{}}
	if !s.fixed {
		s.size = DefaultBatchSize(len(pending), jobs)
	}
	return s
}

// next is the next batch, started now, with its flight for finished and
// ended; nil when every run was handed out.
func (s *schedule) next(now time.Time) ([]int, *flight) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil, nil
	}
	n := min(s.size, len(s.pending))
	if !s.fixed && s.ran > 0 {
		d := s.took / time.Duration(s.ran)
		rest := time.Duration(0)
		for f := range s.running {
			rest += max(0, f.start.Add(time.Duration(f.runs)*d).Sub(now))
		}
		share := (float64(len(s.pending)) + float64(rest)/float64(max(d, 1))) / float64(s.jobs)
		n = min(n, max(1, int(math.Round(share))))
	}
	b := s.pending[:n:n]
	s.pending = s.pending[n:]
	f := &flight{start: now, runs: n}
	s.running[f] = true
	return b, f
}

// drain hands out every run not handed out yet, for none of them to run.
func (s *schedule) drain() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	rest := s.pending
	s.pending = nil
	return rest
}

// finished notes that runs runs finished, each after took on average.
func (s *schedule) finished(took time.Duration, runs int) {
	s.mu.Lock()
	s.took += took * time.Duration(runs)
	s.ran += runs
	s.mu.Unlock()
}

// ended notes that f's process ended.
func (s *schedule) ended(f *flight) {
	s.mu.Lock()
	delete(s.running, f)
	s.mu.Unlock()
}

// BatchSizes are the sizes of the batches that a schedule of runs on jobs
// slots starts with: all of them for a fixed size, else those handed out
// before any run has finished; sized is true when the rest will be sized
// from the durations (what runall -V prints).
func BatchSizes(runs, batchSize, jobs int) (sizes []int, sized bool) {
	s := newSchedule(make([]int, runs), batchSize, jobs)
	for b, _ := s.next(time.Time{}); b != nil; b, _ = s.next(time.Time{}) {
		sizes = append(sizes, len(b))
		if !s.fixed && len(sizes) == s.jobs && len(s.pending) > 0 {
			return sizes, true
		}
	}
	return sizes, false
}
