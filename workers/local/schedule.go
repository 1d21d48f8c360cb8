package local

// schedule hands out a sweep's pending runs in order, one batch per
// process. With a fixed size (an explicit -b, as opp_runall -b) every batch
// has that many runs but the last. Otherwise batches have opp_runall's
// default size while much is left, and shrink towards the end of the sweep
// (guided self-scheduling: min(size, ceil(remaining / jobs)), at least
// 1): opp_runall's last batch of 5 runs on one slot while the others idle,
// whereas here the slots' last processes are short and finish closer
// together. (ceil(remaining / (2 x jobs)) balanced aloha's sweep no better
// and made a small sweep's processes many: 6 runs on 2 slots in 5.) Not safe for concurrent use: Execute calls next under its lock.
type schedule struct {
	pending []int
	size    int
	jobs    int
	fixed   bool
}

// newSchedule plans pending on jobs slots: batches of batchSize runs
// (fixed), or, with batchSize 0, opp_runall's default size shrinking
// towards the end.
func newSchedule(pending []int, batchSize, jobs int) *schedule {
	s := &schedule{pending: pending, size: batchSize, jobs: max(jobs, 1), fixed: batchSize > 0}
	if !s.fixed {
		s.size = DefaultBatchSize(len(pending), jobs)
	}
	return s
}

// next is the next batch, nil when every run was handed out.
func (s *schedule) next() []int {
	if len(s.pending) == 0 {
		return nil
	}
	n := s.size
	if !s.fixed {
		n = min(n, max(1, (len(s.pending)+s.jobs-1)/s.jobs))
	}
	n = min(n, len(s.pending))
	b := s.pending[:n:n]
	s.pending = s.pending[n:]
	return b
}

// BatchSizes are the sizes of the batches a schedule of runs on jobs slots
// hands out, in order (what runall -V prints).
func BatchSizes(runs, batchSize, jobs int) []int {
	pending := make([]int, runs)
	s := newSchedule(pending, batchSize, jobs)
	var sizes []int
	for b := s.next(); b != nil; b = s.next() {
		sizes = append(sizes, len(b))
	}
	return sizes
}
