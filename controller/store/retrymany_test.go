package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/schema"
)

// TestRetryOfManyFailedRunsKeepsFerretDBAnswering: retrying 5,000 failed
// runs while runners store outcomes of other runs (bulk updates of 16
// records, as their group commits do) resets every failed run, and every
// runner's write lands within a bound. FerretDB 1.24 wedged for good on
// large run-record updates racing other writers (commits of 256 runs).
func TestRetryOfManyFailedRunsKeepsFerretDBAnswering(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const failed, others, writers = 1500, 500, 4
	nums := make([]int, failed)
	for i := range nums {
		nums[i] = i
	}
	runs := s.DB.Collection(collRuns)
	// Inserted Failed: one update of them all is what wedges.
	var recs []any
	for _, i := range nums {
		recs = append(recs, schema.RunRecord{ID: RunID("r", "u1", i), Campaign: "r", UID: "u1", Run: i,
			State: schema.RunFailed, Attempts: 3, UpdatedAt: time.Now().UTC()})
		if len(recs) == 1000 || i == failed-1 {
			if _, err := runs.InsertMany(ctx, recs); err != nil {
				t.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if _, err := s.CreateRuns(ctx, "o", "u2", nums[:others]); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t0 := time.Now()
	go func() {
		n, err := s.RetryFailedRuns(ctx, "r", "u1")
		if err == nil && n != failed {
			err = fmt.Errorf("retried %d, want %d", n, failed)
		}
		done <- err
	}()
	checkWrites := runnerWrites(ctx, s, "o", "u2", others, writers)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("retry of %d runs took %v", failed, time.Since(t0))
	case <-time.After(4 * time.Minute):
		t.Fatal("retry of 1,500 failed runs not done within 4 minutes: FerretDB wedged")
	}
	checkWrites(t)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := s.RunCounts(pctx, "r", "u1")
	if err != nil || c.Pending != failed || c.Failed != 0 {
		t.Fatalf("after the retry: %+v, %v; want %d pending", c, err, failed)
	}
}
