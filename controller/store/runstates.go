package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// RunState is a run record's number, state and attempts, without the rest.
type RunState struct {
	Run      int    `bson:"run"`
	State    string `bson:"state"`
	Attempts int    `bson:"attempts"`
}

// RunStates lists the state of every run record of the campaign object
// (campaign, uid), in no particular order. It reads three fields of each
// record (a record's file list can weigh hundreds of KB), for a campaign
// whose every pass needs each run's state (a stop rule's).
func (s *Store) RunStates(ctx context.Context, campaign, uid string) ([]RunState, error) {
	cur, err := s.DB.Collection(collRuns).Find(ctx, bson.M{"campaign": campaign, "uid": uid},
		options.Find().SetProjection(bson.M{"_id": 0, "run": 1, "state": 1, "attempts": 1}))
	if err != nil {
		return nil, fmt.Errorf("list run states of %s: %w", campaign, err)
	}
	var out []RunState
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list run states of %s: %w", campaign, err)
	}
	return out, nil
}
