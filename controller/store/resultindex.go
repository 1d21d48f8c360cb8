package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/workers/resultindex"
)

// ScanResultIndex calls fn with the result index document of every
// indexed run of campaign object uid, in storage order; fn's error stops
// the scan and is returned. One query (a scan of the collection on
// FerretDB, the uid index on MongoDB), read in batches of 256 documents.
func (s *Store) ScanResultIndex(ctx context.Context, uid string, fn func(*resultindex.Doc) error) error {
	cur, err := s.DB.Collection(resultindex.Collection).Find(ctx, bson.M{"uid": uid}, options.Find().SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("read result index of %s: %w", uid, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d resultindex.Doc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("read result index of %s: %w", uid, err)
		}
		if err := fn(&d); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read result index of %s: %w", uid, err)
	}
	return nil
}
