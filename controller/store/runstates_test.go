package store

import (
	"context"
	"testing"

	"github.com/simswarm/simswarm/workers/jobs"
)

// TestSetRunStatesMovesOnlyRecordsStillInFrom: the bulk transition of a
// dispatch leaves records that moved on meanwhile (a worker claimed one)
// alone, and counts only what it moved.
func TestSetRunStatesMovesOnlyRecordsStillInFrom(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.CreateRuns(ctx, "c", "u", []int{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.SetRunState(ctx, RunID("c", "u", 1), jobs.RunPending, jobs.RunRunning, ""); !ok || err != nil {
		t.Fatalf("set run 1 running: %v %v", ok, err)
	}
	ids := []string{RunID("c", "u", 0), RunID("c", "u", 1), RunID("c", "u", 2)}
	n, err := s.SetRunStates(ctx, ids, jobs.RunPending, jobs.RunQueued)
	if err != nil || n != 2 {
		t.Fatalf("moved %d (%v), want 2", n, err)
	}
	want := map[int]string{0: jobs.RunQueued, 1: jobs.RunRunning, 2: jobs.RunQueued, 3: jobs.RunPending}
	for run, st := range want {
		r, err := s.GetRun(ctx, "c", "u", run)
		if err != nil || r.State != st {
			t.Errorf("run %d: %v %v, want %s", run, r, err, st)
		}
	}
	if n, err := s.SetRunStates(ctx, nil, jobs.RunPending, jobs.RunQueued); n != 0 || err != nil {
		t.Errorf("empty batch: %d %v", n, err)
	}
}
