package testdb

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
)

// Run reads run record id as the controller's readers see it: settled
// from its completion, which a runner writes alone (schema.Completion.Settle).
// Decode it into any struct a record decodes into.
func Run(ctx context.Context, db *mongo.Database, id string) *mongo.SingleResult {
	var r schema.RunRecord
	if err := db.Collection(schema.CollRuns).FindOne(ctx, bson.M{"_id": id}).Decode(&r); err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	if err := settle(ctx, db, &r); err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	return mongo.NewSingleResultFromDocument(r, nil, nil)
}

// Runs reads the run records filter selects, each settled from its
// completion as Run does; a filter naming a state applies to the settled
// records.
func Runs(ctx context.Context, db *mongo.Database, filter bson.M) ([]schema.RunRecord, error) {
	f := bson.M{}
	for k, v := range filter {
		if k != "state" {
			f[k] = v
		}
	}
	cur, err := db.Collection(schema.CollRuns).Find(ctx, f)
	if err != nil {
		return nil, err
	}
	var all []schema.RunRecord
	if err := cur.All(ctx, &all); err != nil {
		return nil, err
	}
	var out []schema.RunRecord
	for i := range all {
		if err := settle(ctx, db, &all[i]); err != nil {
			return nil, err
		}
		if st, ok := filter["state"]; ok && st != all[i].State {
			continue
		}
		out = append(out, all[i])
	}
	return out, nil
}

// CountRuns counts the settled run records filter selects (see Runs).
func CountRuns(ctx context.Context, db *mongo.Database, filter bson.M) (int64, error) {
	rs, err := Runs(ctx, db, filter)
	return int64(len(rs)), err
}

func settle(ctx context.Context, db *mongo.Database, r *schema.RunRecord) error {
	var c schema.Completion
	err := db.Collection(schema.CollCompletions).FindOne(ctx, bson.M{"_id": r.ID}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return err
	}
	c.Settle(r)
	return nil
}
