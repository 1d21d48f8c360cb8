package local

import (
	"slices"
	"testing"
)

// TestBatchesShrinkTowardsTheEndOfTheSweep: by default the batches have
// opp_runall's size while much is left and shrink to single runs at the
// end (so that the slots' last processes finish together); an explicit
// size is kept for every batch but the last, as opp_runall -b; every run
// is handed out once, in order.
func TestBatchesShrinkTowardsTheEndOfTheSweep(t *testing.T) {
	for _, c := range []struct {
		runs, size, jobs int
		want             []int
	}{
		// PureAlohaExperiment on 2 slots: opp_runall runs 5 5 5 5 5 5 5 5 2.
		{42, 0, 2, []int{5, 5, 5, 5, 5, 5, 5, 4, 2, 1}},
		{42, 5, 2, []int{5, 5, 5, 5, 5, 5, 5, 5, 2}},
		{42, 3, 2, []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}},
		{10, 0, 2, []int{5, 3, 1, 1}},
		{6, 0, 2, []int{3, 2, 1}},
		{6, 3, 2, []int{3, 3}},
		{4, 0, 8, []int{1, 1, 1, 1}},
		{100, 0, 4, []int{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3, 2, 2, 1, 1, 1, 1}},
		{1, 0, 2, []int{1}},
		{0, 0, 2, nil},
		{7, 0, 0, []int{5, 2}},
	} {
		if got := BatchSizes(c.runs, c.size, c.jobs); !slices.Equal(got, c.want) {
			t.Errorf("%d runs, -b %d, %d slots: batches %v, want %v", c.runs, c.size, c.jobs, got, c.want)
		}
	}
	runs := []int{3, 1, 4, 15, 9, 2, 6, 5, 35, 8, 97, 93}
	s := newSchedule(slices.Clone(runs), 0, 2)
	var got []int
	for b := s.next(); b != nil; b = s.next() {
		got = append(got, b...)
	}
	if !slices.Equal(got, runs) {
		t.Fatalf("handed out %v, want %v", got, runs)
	}
}
