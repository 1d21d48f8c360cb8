package local

import (
	"slices"
	"testing"
	"time"
)

// TestBatchSizesStartAsOppRunalls: an explicit size is kept for every
// batch but the last, as opp_runall -b; by default the first batches,
// handed out before any run has finished, have opp_runall's size, so a
// sweep that fits in them is batched as opp_runall batches it.
func TestBatchSizesStartAsOppRunalls(t *testing.T) {
	for _, c := range []struct {
		runs, size, jobs int
		want             []int
		sized            bool
	}{
		{42, 5, 2, []int{5, 5, 5, 5, 5, 5, 5, 5, 2}, false},
		{42, 0, 2, []int{5, 5}, true},
		{10, 0, 2, []int{5, 5}, false},
		{6, 0, 2, []int{3, 3}, false},
		{6, 3, 2, []int{3, 3}, false},
		{4, 0, 8, []int{1, 1, 1, 1}, false},
		{0, 0, 2, nil, false},
		{7, 0, 0, []int{5}, true},
	} {
		got, sized := BatchSizes(c.runs, c.size, c.jobs)
		if !slices.Equal(got, c.want) || sized != c.sized {
			t.Errorf("%d runs, -b %d, %d slots: batches %v (then sized: %v), want %v (%v)", c.runs, c.size, c.jobs, got, sized, c.want, c.sized)
		}
	}
}

// alohaCPU are the CPU times of PureAlohaExperiment's 42 runs, one process
// each (OMNeT++ 6.1, in ms): long and short runs alternate in stretches.
var alohaCPU = []int{100, 110, 70, 60, 50, 40, 40, 30, 50, 40, 30, 40, 20, 20, 170, 160, 90, 100, 80, 70, 50,
	60, 50, 50, 40, 40, 40, 30, 220, 260, 120, 170, 170, 110, 120, 110, 120, 140, 80, 60, 40, 40}

// TestLastBatchesFinishTogether: a sweep run on a simulated clock through
// the schedule, each process starting up for startup and its runs taking
// their durations. By default the slots finish sooner than with
// opp_runall's fixed batches where those leave a slot idle at the end
// (aloha's last batch of 2 runs, while the runs vary), and never later
// where they do not (equal runs that divide evenly), with at most one
// process more; every run is handed out once, in order.
func TestLastBatchesFinishTogether(t *testing.T) {
	ms := func(v []int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	equal := func(n int, d time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	for _, c := range []struct {
		name    string
		runs    []time.Duration
		jobs    int
		shorter bool // than opp_runall's batches
	}{
		{"aloha, 2 slots", ms(alohaCPU), 2, true},
		{"aloha, 4 slots", ms(alohaCPU), 4, true},
		{"aloha x 5, 2 slots", slices.Repeat(ms(alohaCPU), 5), 2, true},
		{"42 equal runs", equal(42, 100*time.Millisecond), 2, true},
		{"40 equal runs", equal(40, 100*time.Millisecond), 2, false},
		{"10 equal runs", equal(10, 100*time.Millisecond), 2, false},
		{"200 equal runs, 4 slots", equal(200, 50*time.Millisecond), 4, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			const startup = 12 * time.Millisecond
			opp, oppProcs, _ := simulateSweep(c.runs, DefaultBatchSize(len(c.runs), c.jobs), c.jobs, startup)
			got, procs, order := simulateSweep(c.runs, 0, c.jobs, startup)
			if c.shorter && got >= opp || got > opp {
				t.Errorf("sweep took %v in %d processes; opp_runall's batches %v in %d", got, procs, opp, oppProcs)
			}
			if procs > oppProcs+2 {
				t.Errorf("%d processes, opp_runall's batches %d", procs, oppProcs)
			}
			want := make([]int, len(c.runs))
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(order, want) {
				t.Errorf("runs handed out %v", order)
			}
			t.Logf("%v in %d processes; opp_runall's batches %v in %d", got, procs, opp, oppProcs)
		})
	}
}

// simulateSweep runs a sweep of runs with the given durations through a
// schedule on a simulated clock and returns when the last slot finished,
// how many processes ran and the runs in the order handed out.
func simulateSweep(runs []time.Duration, batchSize, jobs int, startup time.Duration) (time.Duration, int, []int) {
	pending := make([]int, len(runs))
	for i := range pending {
		pending[i] = i
	}
	s := newSchedule(pending, batchSize, jobs)
	t0 := time.Unix(0, 0)
	type proc struct {
		f    *flight
		ends []time.Duration // each run's end, since t0
		told int             // runs reported finished
	}
	free := make([]time.Duration, jobs)
	procs := make([]*proc, jobs)
	var order []int
	count := 0
	for {
		j := 0
		for k := range free {
			if free[k] < free[j] {
				j = k
			}
		}
		now := free[j]
		// Runs that finished by now, in every process, are reported;
		// the slot's own process has ended.
		for _, p := range procs {
			if p == nil {
				continue
			}
			for p.told < len(p.ends) && p.ends[p.told] <= now {
				prev := p.f.start.Sub(t0)
				if p.told > 0 {
					prev = p.ends[p.told-1]
				}
				s.finished(p.ends[p.told]-prev, 1)
				p.told++
			}
		}
		if procs[j] != nil {
			s.ended(procs[j].f)
			procs[j] = nil
		}
		b, f := s.next(t0.Add(now))
		if b == nil {
			end := time.Duration(0)
			for k := range free {
				if procs[k] != nil {
					end = max(end, free[k])
				}
			}
			return max(end, now), count, order
		}
		count++
		order = append(order, b...)
		p := &proc{f: f}
		at := now + startup
		for _, r := range b {
			at += runs[r]
			p.ends = append(p.ends, at)
		}
		procs[j] = p
		free[j] = at
	}
}
