package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/gridfs"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// SourceName is the GridFS file name of the source archive with digest sha.
func SourceName(sha string) string { return schema.SourceName(sha) }

// HasSource reports whether the archive with digest sha is stored.
func (s *Store) HasSource(ctx context.Context, sha string) (bool, error) {
	return s.hasFile(ctx, bucketSources, SourceName(sha))
}

func (s *Store) hasFile(ctx context.Context, bucket, name string) (bool, error) {
	n, err := s.DB.Collection(bucket+".files").CountDocuments(ctx, bson.M{"filename": name})
	if err != nil {
		return false, fmt.Errorf("look up %s/%s: %w", bucket, name, err)
	}
	return n > 0, nil
}

// PutSource stores an archive whose sha256 the caller has verified. Storing
// a digest twice keeps one copy.
func (s *Store) PutSource(ctx context.Context, sha string, r io.Reader) error {
	ok, err := s.HasSource(ctx, sha)
	if err != nil || ok {
		return err
	}
	if _, err := gridfs.Upload(ctx, s.DB, bucketSources, SourceName(sha), r, nil); err != nil {
		return fmt.Errorf("upload source %s: %w", sha, err)
	}
	return nil
}

// OpenFile opens a GridFS file by id in bucket, to stream it in bounded
// batches of chunks (see workers/gridfs).
func (s *Store) OpenFile(ctx context.Context, bucket string, id any) (*gridfs.Reader, error) {
	st, err := gridfs.OpenByID(ctx, s.DB, bucket, id)
	if errors.Is(err, mongo.ErrFileNotFound) {
		return nil, fmt.Errorf("file %v in %s: %w", id, bucket, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open file %v in %s: %w", id, bucket, err)
	}
	return st, nil
}

// OpenSource opens the archive with digest sha.
func (s *Store) OpenSource(ctx context.Context, sha string) (*gridfs.Reader, error) {
	st, err := gridfs.OpenByName(ctx, s.DB, bucketSources, SourceName(sha))
	if errors.Is(err, mongo.ErrFileNotFound) {
		return nil, fmt.Errorf("source %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", sha, err)
	}
	return st, nil
}
