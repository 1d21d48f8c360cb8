package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
)

// A run's completion is its outcome: a runner stores a run's results and
// inserts its completion, and writes nothing on the run record (on
// FerretDB's SQLite backend an update of a record is a write transaction
// of its own and a read-modify-write of its document, about half of what
// a stored run cost the database: BenchmarkCommitCommands). So a record
// may say Pending (or a failure a late attempt wrote) while its run has
// succeeded; every reader of run records here settles them from their
// completions (schema.Completion.Settle). Records written by earlier
// versions, whose outcome is set on them, read as they are.

// completionFields is what settling a record takes from a completion,
// without its file list (listings of many records read that only for the
// records they return).
var completionFields = bson.M{"files": 0}

// completions returns the completions of campaign object uid by _id, with
// their file lists when files is set.
func (s *Store) completions(ctx context.Context, uid string, files bool) (map[string]*schema.Completion, error) {
	// With their file lists completions weigh what records do: as few per
	// reply as Runs reads (FerretDB sends a first batch whole).
	o := options.Find().SetBatchSize(runsPerReply)
	if !files {
		o.SetProjection(completionFields).SetBatchSize(5000)
	}
	cur, err := s.DB.Collection(schema.CollCompletions).Find(ctx, bson.M{"uid": uid}, o)
	if err != nil {
		return nil, fmt.Errorf("read completions of %s: %w", uid, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := map[string]*schema.Completion{}
	for cur.Next(ctx) {
		c := &schema.Completion{}
		if err := cur.Decode(c); err != nil {
			return nil, fmt.Errorf("read completions of %s: %w", uid, err)
		}
		out[c.ID] = c
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read completions of %s: %w", uid, err)
	}
	return out, nil
}

// completedIDs returns the _ids of the completions of campaign object uid.
func (s *Store) completedIDs(ctx context.Context, uid string) (map[string]bool, error) {
	cur, err := s.DB.Collection(schema.CollCompletions).Find(ctx, bson.M{"uid": uid},
		options.Find().SetProjection(bson.M{"_id": 1}).SetBatchSize(20000))
	if err != nil {
		return nil, fmt.Errorf("read completions of %s: %w", uid, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := map[string]bool{}
	for cur.Next(ctx) {
		if id, ok := cur.Current.Lookup("_id").StringValueOK(); ok {
			out[id] = true
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read completions of %s: %w", uid, err)
	}
	return out, nil
}

// completion returns run id's completion, nil for none.
func (s *Store) completion(ctx context.Context, id string) (*schema.Completion, error) {
	var c schema.Completion
	err := s.DB.Collection(schema.CollCompletions).FindOne(ctx, bson.M{"_id": id}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read completion of %s: %w", id, err)
	}
	return &c, nil
}
