package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
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
	checkWrites := runnerWrites(ctx, s, "o", "u2", others, writers)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(4 * time.Minute):
		t.Fatal("backfill of 512 runs not done within 4 minutes")
	}
	checkWrites(t)
	n, err := runs.CountDocuments(ctx, bson.M{"uid": "u1", "resultIndex": bson.M{"$exists": true}})
	if err != nil || n != backfill {
		t.Fatalf("%d records with their index summary (%v), want %d", n, err, backfill)
	}
}
