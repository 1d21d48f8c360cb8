package store

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// TestPruneRemovesTheResultIndex: pruning a result set removes its runs'
// index documents with their completions, and leaves another uid's.
func TestPruneRemovesTheResultIndex(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for _, uid := range []string{"u1", "u2"} {
		for run := range 3 {
			id := schema.RunID("c", uid, run)
			if _, err := s.DB.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: id, Campaign: "c", UID: uid}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DB.Collection(resultindex.Collection).InsertOne(ctx, resultindex.Doc{ID: id, Campaign: "c", UID: uid, Run: run}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; ; i++ {
		done, err := s.PruneBatch(ctx, "u1", 2)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if i > 10 {
			t.Fatal("prune does not end")
		}
	}
	for uid, want := range map[string]int64{"u1": 0, "u2": 3} {
		n, err := s.DB.Collection(resultindex.Collection).CountDocuments(ctx, bson.M{"uid": uid})
		if err != nil || n != want {
			t.Errorf("%s: %d index documents (%v), want %d", uid, n, err, want)
		}
	}
}
