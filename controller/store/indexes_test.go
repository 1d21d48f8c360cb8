package store

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// TestEnsureIndexesMakesTheResultBucketsIndexes: runners write result
// files' GridFS documents themselves, so the controller makes the bucket's
// indexes; a second chunk n of one file is refused, and ensuring twice (as
// every controller start does) changes nothing.
func TestEnsureIndexesMakesTheResultBucketsIndexes(t *testing.T) {
	s := open(t) // Open ensures once
	ctx := context.Background()
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatalf("second EnsureIndexes: %v", err)
	}
	names := func(coll string) map[string]bool {
		cur, err := s.DB.Collection(coll).Indexes().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var specs []struct {
			Name string `bson:"name"`
		}
		if err := cur.All(ctx, &specs); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, sp := range specs {
			out[sp.Name] = true
		}
		return out
	}
	// Builders and the source upload write theirs too (workers/gridfs).
	for _, bucket := range []string{schema.BucketResults, schema.BucketArtifacts, schema.BucketSources} {
		if got := names(bucket + ".files"); !got["filename_1_uploadDate_1"] {
			t.Errorf("%s.files indexes %v", bucket, got)
		}
		if got := names(bucket + ".chunks"); !got["files_id_1_n_1"] {
			t.Errorf("%s.chunks indexes %v", bucket, got)
		}
	}
	if got := names(resultindex.Collection); !got["uid"] || !got["campaign_uid"] {
		t.Errorf("%s indexes %v", resultindex.Collection, got)
	}
	// A result set's completions are listed and pruned by uid, in _id
	// order (KeptResults, PruneBatch).
	if got := names(schema.CollCompletions); !got["uid_id"] {
		t.Errorf("%s indexes %v", schema.CollCompletions, got)
	}
	chunks := s.DB.Collection(schema.BucketResults + ".chunks")
	fid := bson.NewObjectID()
	if _, err := chunks.InsertOne(ctx, bson.M{"files_id": fid, "n": 0, "data": bson.Binary{Data: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	_, err := chunks.InsertOne(ctx, bson.M{"files_id": fid, "n": 0, "data": bson.Binary{Data: []byte("b")}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Errorf("second chunk 0 of one file: %v, want a duplicate key error", err)
	}
}
