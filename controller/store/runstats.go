package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
)

// SucceededTime sums the durations of the succeeded runs of (campaign,
// uid); with their count (RunCounts) it is their mean, which sizes
// batches. A pass of its own rather than a second accumulator of
// RunCounts' $group: FerretDB 1.24 answers every accumulator after a
// group's first with 0 (and has no $avg).
func (s *Store) SucceededTime(ctx context.Context, campaign, uid string) (time.Duration, error) {
	cur, err := s.DB.Collection(collRuns).Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.M{"campaign": campaign, "uid": uid, "state": schema.RunSucceeded}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}, {Key: "ms", Value: bson.M{"$sum": "$durationMs"}}}}},
	})
	if err != nil {
		return 0, fmt.Errorf("sum run durations of %s: %w", campaign, err)
	}
	var rows []struct {
		MS int64 `bson:"ms"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return 0, fmt.Errorf("sum run durations of %s: %w", campaign, err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return time.Duration(rows[0].MS) * time.Millisecond, nil
}
