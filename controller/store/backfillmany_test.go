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

// TestBackfillOfManyRunsKeepsRunnersWriting: a backfill pass of 512 runs
// (the backfiller's default) records their index summaries while runners
// store outcomes of other runs (bulk updates of 16 records, as their
// group commits do); every runner write lands within its bound. One
// update command of 512 records held FerretDB 1.24's single writer for
// all of them, as RetryFailedRuns' single update did.
func TestBackfillOfManyRunsKeepsRunnersWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("512 runs to backfill")
	}
	s := open(t)
	ctx := context.Background()
	const backfill, others, writers = 512, 1500, 4
	sca := alohaSCA(t, 1)
	for run := range backfill {
		storeRunWithoutIndex(t, s, "b", "u1", run, time.Now().Add(-time.Hour), map[string][]byte{"r.sca": sca})
	}
	nums := make([]int, others)
	for i := range nums {
		nums[i] = i
	}
	if _, err := s.CreateRuns(ctx, "o", "u2", nums); err != nil {
		t.Fatal(err)
	}
	runs := s.DB.Collection(collRuns)
	done := make(chan error, 1)
	go func() {
		got, err := s.BackfillResultIndex(ctx, "b", "u1", BackfillOptions{Limit: backfill})
		if err == nil && got.Indexed != backfill {
			err = fmt.Errorf("indexed %d, want %d (%+v)", got.Indexed, backfill, got)
		}
		done <- err
	}()
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
	case <-time.After(4 * time.Minute):
		t.Fatal("backfill of 512 runs not done within 4 minutes")
	}
	wg.Wait()
	for _, err := range werrs {
		if err != nil {
			t.Error(err)
		}
	}
	n, err := runs.CountDocuments(ctx, bson.M{"uid": "u1", "resultIndex": bson.M{"$exists": true}})
	if err != nil || n != backfill {
		t.Fatalf("%d records with their index summary (%v), want %d", n, err, backfill)
	}
	o, err := s.RunCounts(ctx, "o", "u2")
	if err != nil || o.Succeeded != others {
		t.Fatalf("the runners' writes: %+v, %v; want %d succeeded", o, err, others)
	}
}
