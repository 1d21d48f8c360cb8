package store

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
)

// TestReadersSettleRunsFromTheirCompletions: a runner writes a run's
// completion and not its record, so every reader takes a run's outcome
// from its completion where the record does not say it (still Pending, or
// Failed by a late attempt's failure), and reads old records, whose
// outcome is set on them, as before. The readers agree on states, counts,
// attempts, files and durations.
func TestReadersSettleRunsFromTheirCompletions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.CreateRuns(ctx, "c", "u", []int{0, 1, 2, 3, 4, 5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	fin := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	comp := func(run, attempt int, ms int64) schema.Completion {
		return schema.Completion{ID: RunID("c", "u", run), Campaign: "c", UID: "u", Attempt: attempt, Worker: "w",
			Files:      []schema.ResultFile{{Name: "r.sca", Size: int64(run), FileID: bson.NewObjectID()}},
			DurationMS: ms, StartedAt: fin.Add(-time.Second), FinishedAt: fin,
			ResultIndex: &schema.IndexSummary{Values: 7}}
	}
	// 0, 1: stored by a runner of this version (records still Pending);
	// 2: stored, then a late attempt's failure written on its record;
	// 3: old data, the outcome on the record and in its completion;
	// 4: failed; 5: skipped; 6, 7: pending.
	for _, c := range []schema.Completion{comp(0, 1, 10), comp(1, 2, 20), comp(2, 1, 40), comp(3, 1, 80)} {
		if _, err := s.DB.Collection(schema.CollCompletions).InsertOne(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	old := comp(3, 1, 80)
	oldSet := bson.M(old.RecordFields())
	oldSet["resultIndex"] = schema.IndexSummary{Values: 3}
	for run, set := range map[int]bson.M{
		2: {"state": schema.RunFailed, "attempts": 2, "message": "late failure"},
		3: oldSet,
		4: {"state": schema.RunFailed, "attempts": 3, "durationMs": 1000},
		5: {"state": schema.RunSkipped},
	} {
		if _, err := s.DB.Collection(collRuns).UpdateOne(ctx, bson.M{"_id": RunID("c", "u", run)}, bson.M{"$set": set}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int]string{0: schema.RunSucceeded, 1: schema.RunSucceeded, 2: schema.RunSucceeded, 3: schema.RunSucceeded,
		4: schema.RunFailed, 5: schema.RunSkipped, 6: schema.RunPending, 7: schema.RunPending}
	wantAttempts := map[int]int{0: 1, 1: 2, 2: 1, 3: 1, 4: 3}

	c, err := s.RunCounts(ctx, "c", "u")
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 8 || c.Succeeded != 4 || c.Failed != 1 || c.Skipped != 1 || c.Pending != 2 {
		t.Errorf("RunCounts %+v, want 8 runs: 4 succeeded, 1 failed, 1 skipped, 2 pending", c)
	}
	if d, err := s.SucceededTime(ctx, "c", "u"); err != nil || d != 150*time.Millisecond {
		t.Errorf("SucceededTime %v %v, want 150ms (the succeeded runs' durations)", d, err)
	}
	states, err := s.RunStates(ctx, "c", "u")
	if err != nil || len(states) != 8 {
		t.Fatalf("RunStates %v %v", states, err)
	}
	for _, st := range states {
		if st.State != want[st.Run] || st.Attempts != wantAttempts[st.Run] {
			t.Errorf("RunStates: run %d %s after %d attempts, want %s after %d", st.Run, st.State, st.Attempts, want[st.Run], wantAttempts[st.Run])
		}
	}
	all, err := s.Runs(ctx, RunQuery{Campaign: "c", UID: "u", After: -1})
	if err != nil || len(all) != 8 {
		t.Fatalf("Runs: %d records, %v", len(all), err)
	}
	for _, r := range all {
		got, err := s.GetRun(ctx, "c", "u", r.Run)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []*schema.RunRecord{&r, got} {
			if x.State != want[r.Run] || x.Attempts != wantAttempts[r.Run] {
				t.Errorf("run %d read %s after %d attempts, want %s after %d", r.Run, x.State, x.Attempts, want[r.Run], wantAttempts[r.Run])
			}
			if x.State == schema.RunSucceeded {
				if len(x.Files) != 1 || x.Files[0].Size != int64(r.Run) || x.Message != "" || x.FinishedAt == nil || !x.FinishedAt.Equal(fin) {
					t.Errorf("run %d read %+v, want its completion's files and times", r.Run, x)
				}
				wantIndex := 7
				if r.Run == 3 {
					wantIndex = 3 // the record's own, written after its completion
				}
				if x.ResultIndex == nil || x.ResultIndex.Values != wantIndex {
					t.Errorf("run %d index summary %+v, want %d values", r.Run, x.ResultIndex, wantIndex)
				}
			}
		}
	}
	for state, runs := range map[string][]int{schema.RunSucceeded: {0, 1, 2, 3}, schema.RunFailed: {4}, schema.RunPending: {6, 7}} {
		got, err := s.Runs(ctx, RunQuery{Campaign: "c", UID: "u", State: state, After: -1})
		if err != nil || !sameRuns(got, runs) {
			t.Errorf("Runs(%s): %v %v, want runs %v", state, runNumbers(got), err, runs)
		}
		// A limit counts the runs in the state, not the records read.
		got, err = s.Runs(ctx, RunQuery{Campaign: "c", UID: "u", State: state, After: -1, Limit: 1, Unsorted: true})
		if err != nil || len(got) != 1 || got[0].State != state {
			t.Errorf("Runs(%s, limit 1): %v %v", state, runNumbers(got), err)
		}
	}
	// The Failed listing the controller retries from leaves out the run
	// whose late failure its completion overrides.
	if got, err := s.Runs(ctx, RunQuery{Campaign: "c", UID: "u", State: schema.RunFailed, After: -1, MaxAttempts: 5}); err != nil || !sameRuns(got, []int{4}) {
		t.Errorf("retryable runs %v %v, want [4]", runNumbers(got), err)
	}
	seen := map[int]string{}
	if err := s.ScanRuns(ctx, func(r *RunSummary) error {
		seen[r.Run] = r.State
		if r.State == schema.RunSucceeded && r.Attempts != wantAttempts[r.Run] {
			t.Errorf("ScanRuns: run %d after %d attempts, want %d", r.Run, r.Attempts, wantAttempts[r.Run])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for run, st := range want {
		if seen[run] != st {
			t.Errorf("ScanRuns: run %d %s, want %s", run, seen[run], st)
		}
	}
}

func runNumbers(rs []schema.RunRecord) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Run)
	}
	return out
}

func sameRuns(rs []schema.RunRecord, want []int) bool {
	got := runNumbers(rs)
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
