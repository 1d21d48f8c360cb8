package store

import (
	"context"
	"sort"
	"testing"

	"github.com/simswarm/simswarm/api/schema"
)

// TestSkippedRunsAreFinal: a Skipped run (a stop rule did not need it)
// is counted as such, listed by RunStates, and final: the queue giving up
// on a stale task of it (FailRun) leaves it Skipped, not Failed.
func TestSkippedRunsAreFinal(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.CreateRuns(ctx, "sk", "u1", []int{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.SetRunState(ctx, RunID("sk", "u1", 1), schema.RunPending, schema.RunSkipped, "not needed"); err != nil || !ok {
		t.Fatalf("skip: %v %v", ok, err)
	}
	if changed, err := s.FailRun(ctx, RunID("sk", "u1", 1), 1, "task archived"); err != nil || changed {
		t.Fatalf("FailRun of a skipped run: changed %v, %v", changed, err)
	}
	c, err := s.RunCounts(ctx, "sk", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 3 || c.Pending != 2 || c.Skipped != 1 || c.Failed != 0 {
		t.Fatalf("counts %+v", c)
	}
	states, err := s.RunStates(ctx, "sk", "u1")
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Run < states[j].Run })
	if len(states) != 3 || states[1] != (RunState{Run: 1, State: schema.RunSkipped}) || states[0].State != schema.RunPending {
		t.Fatalf("states %+v", states)
	}
}
