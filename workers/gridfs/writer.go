package gridfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// ChunkSize is the chunk size of the files written here: GridFS's default
// (255 KiB).
const ChunkSize = 255 * 1024

// MaxInsertBytes bounds the chunk data one insert command carries.
const MaxInsertBytes = 4 << 20

// Uploaded describes a stored file.
type Uploaded struct {
	ID     bson.ObjectID
	Size   int64
	SHA256 string
}

// Upload stores r as a new file named name in bucket, with metadata,
// MaxInsertBytes of chunks per insert; the files document is written last,
// so that a reader never finds a file whose chunks are still missing. On
// error the chunks written are removed (best effort).
func Upload(ctx context.Context, db *mongo.Database, bucket, name string, r io.Reader, metadata any) (Uploaded, error) {
	chunks := db.Collection(bucket + ".chunks")
	id := bson.NewObjectID()
	up := Uploaded{ID: id}
	sum := sha256.New()
	buf := make([]byte, MaxInsertBytes/ChunkSize*ChunkSize)
	var n int32
	fail := func(err error) (Uploaded, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = chunks.DeleteMany(cctx, bson.M{"files_id": id})
		return Uploaded{}, fmt.Errorf("upload %s to %s: %w", name, bucket, err)
	}
	for {
		k, rerr := io.ReadFull(r, buf)
		if k > 0 {
			sum.Write(buf[:k])
			up.Size += int64(k)
			docs := make([]any, 0, (k+ChunkSize-1)/ChunkSize)
			for off := 0; off < k; off += ChunkSize {
				docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "files_id", Value: id},
					{Key: "n", Value: n}, {Key: "data", Value: bson.Binary{Data: buf[off:min(off+ChunkSize, k)]}}})
				n++
			}
			if _, err := chunks.InsertMany(ctx, docs); err != nil {
				return fail(err)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	up.SHA256 = hex.EncodeToString(sum.Sum(nil))
	doc := bson.D{{Key: "_id", Value: id}, {Key: "length", Value: up.Size}, {Key: "chunkSize", Value: int32(ChunkSize)},
		{Key: "uploadDate", Value: time.Now().UTC()}, {Key: "filename", Value: name}}
	if metadata != nil {
		doc = append(doc, bson.E{Key: "metadata", Value: metadata})
	}
	if _, err := db.Collection(bucket+".files").InsertOne(ctx, doc); err != nil {
		return fail(err)
	}
	return up, nil
}
