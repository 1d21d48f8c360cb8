package store

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
)

// SucceededTime sums the durations of succeeded runs only.
func TestSucceededTimeSumsSucceededRuns(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.CreateRuns(ctx, "c", "u", []int{0, 1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if d, err := s.SucceededTime(ctx, "c", "u"); err != nil || d != 0 {
		t.Fatalf("nothing succeeded: %v %v", d, err)
	}
	for run, set := range map[int]bson.M{
		0: {"state": schema.RunSucceeded, "durationMs": 10},
		1: {"state": schema.RunSucceeded, "durationMs": 30},
		2: {"state": schema.RunFailed, "durationMs": 1000},
	} {
		if _, err := s.DB.Collection(collRuns).UpdateOne(ctx, bson.M{"_id": schema.RunID("c", "u", run)}, bson.M{"$set": set}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		if d, err := s.SucceededTime(ctx, "c", "u"); err != nil || d != 40*time.Millisecond {
			t.Fatalf("pass %d: %v %v, want 40ms", i, d, err)
		}
	}
	if c, err := s.RunCounts(ctx, "c", "u"); err != nil || c.Total != 5 || c.Succeeded != 2 {
		t.Fatalf("counts %+v %v", c, err)
	}
}
