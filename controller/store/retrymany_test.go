package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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
	// The runners' writes, meanwhile: each a bulk update of 16 records.
	var wg sync.WaitGroup
	werrs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := w * 16; b < others; b += writers * 16 {
				var models []mongo.WriteModel
				for i := b; i < min(b+16, others); i++ {
					models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": RunID("o", "u2", i)}).
						SetUpdate(bson.M{"$set": bson.M{"state": schema.RunSucceeded}}))
				}
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := runs.BulkWrite(wctx, models, options.BulkWrite().SetOrdered(false))
				cancel()
				if err != nil {
					werrs[w] = fmt.Errorf("runner write of runs %d..: %w", b, err)
					return
				}
			}
		}()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("retry of %d runs took %v", failed, time.Since(t0))
	case <-time.After(4 * time.Minute):
		t.Fatal("retry of 1,500 failed runs not done within 4 minutes: FerretDB wedged")
	}
	wg.Wait()
	for _, err := range werrs {
		if err != nil {
			t.Error(err)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := s.RunCounts(pctx, "r", "u1")
	if err != nil || c.Pending != failed || c.Failed != 0 {
		t.Fatalf("after the retry: %+v, %v; want %d pending", c, err, failed)
	}
	o, err := s.RunCounts(pctx, "o", "u2")
	if err != nil || o.Succeeded != others {
		t.Fatalf("the runners' writes: %+v, %v; want %d succeeded", o, err, others)
	}
}
