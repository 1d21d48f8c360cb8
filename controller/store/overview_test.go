package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
)

func TestScanRunsReadsEverySummaryWithoutFiles(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.CreateRuns(ctx, "a", "u1", []int{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRuns(ctx, "b", "u2", []int{7}); err != nil {
		t.Fatal(err)
	}
	fin := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := s.DB.Collection(collRuns).UpdateOne(ctx, bson.M{"_id": RunID("a", "u1", 1)}, bson.M{"$set": bson.M{
		"state": schema.RunSucceeded, "attempts": 2, "durationMs": 1500, "finishedAt": fin, "worker": "w1",
		"files": []schema.ResultFile{{Name: "x.sca", Size: 3}}}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]RunSummary{}
	if err := s.ScanRuns(ctx, func(r *RunSummary) error { got[RunID(r.Campaign, r.UID, r.Run)] = *r; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("scanned %d records, want 4: %v", len(got), got)
	}
	r := got[RunID("a", "u1", 1)]
	if r.State != schema.RunSucceeded || r.Attempts != 2 || r.DurationMS != 1500 || r.Worker != "w1" || r.FinishedAt == nil || !r.FinishedAt.Equal(fin) {
		t.Fatalf("summary of a/1 = %+v", r)
	}
	if p := got[RunID("b", "u2", 7)]; p.State != schema.RunPending || p.FinishedAt != nil {
		t.Fatalf("summary of b/7 = %+v", p)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.ScanRuns(ctx, func(*RunSummary) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("callback error: %v after %d records, want stop after 1", err, n)
	}
}

func TestRetryFailedRunsResetsOnlyThatObjectsFailedRuns(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.CreateRuns(ctx, "a", "u1", []int{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRuns(ctx, "a", "old", []int{0}); err != nil {
		t.Fatal(err)
	}
	runs := s.DB.Collection(collRuns)
	for _, id := range []string{RunID("a", "u1", 1), RunID("a", "u1", 3), RunID("a", "old", 0)} {
		if _, err := runs.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"state": schema.RunFailed, "attempts": 3}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := runs.UpdateOne(ctx, bson.M{"_id": RunID("a", "u1", 2)}, bson.M{"$set": bson.M{"state": schema.RunSucceeded}}); err != nil {
		t.Fatal(err)
	}
	n, err := s.RetryFailedRuns(ctx, "a", "u1")
	if err != nil || n != 2 {
		t.Fatalf("retried %d, %v; want 2", n, err)
	}
	c, err := s.RunCounts(ctx, "a", "u1")
	if err != nil || c.Failed != 0 || c.Pending != 3 || c.Succeeded != 1 {
		t.Fatalf("counts after retry: %+v %v", c, err)
	}
	r, _ := s.GetRun(ctx, "a", "u1", 3)
	if r.Attempts != 3 || r.Message == "" {
		t.Fatalf("retried run keeps its attempts and says why: %+v", r)
	}
	if old, _ := s.GetRun(ctx, "a", "old", 0); old.State != schema.RunFailed {
		t.Fatalf("another object's run was retried: %+v", old)
	}
	if n, err := s.RetryFailedRuns(ctx, "a", "u1"); err != nil || n != 0 {
		t.Fatalf("second retry: %d, %v; want 0", n, err)
	}
}

func TestBuildsNewestFirst(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for i, k := range []string{"k1", "k2", "k3"} {
		if err := s.EnsureBuild(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB.Collection(collBuilds).UpdateOne(ctx, bson.M{"_id": k},
			bson.M{"$set": bson.M{"updatedAt": time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC)}}); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := s.Builds(ctx)
	if err != nil || len(bs) != 3 || bs[0].Key != "k3" || bs[2].Key != "k1" {
		t.Fatalf("builds = %+v, %v", bs, err)
	}
}
