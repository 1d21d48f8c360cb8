package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// chunkSize is GridFS's default chunk size (255 KiB).
const chunkSize = gridfs.ChunkSize

// maxBatchBytes bounds the chunk data one insert carries, far below the
// 48 MB of a wire message, and so the memory a storing run holds.
const maxBatchBytes = gridfs.MaxInsertBytes

// chunkDoc is a GridFS chunk document.
type chunkDoc struct {
	ID      bson.ObjectID `bson:"_id"`
	FilesID bson.ObjectID `bson:"files_id"`
	N       int32         `bson:"n"`
	Data    []byte        `bson:"data"`
}

// upload reads the result files into GridFS documents of the results
// bucket, with their metadata, for a group commit to write (chunks first,
// then file documents, so that no file document names a missing chunk).
// Only the chunks of large results are written here, maxBatchBytes at a time, to
// bound the memory a run holds. The driver's upload stream would cost a
// 16 MiB buffer per file and a query per bucket; here a run's files cost
// a share of two inserts. The bucket's indexes are the controller's
// (store.EnsureIndexes).
func (h *Handler) upload(ctx context.Context, rt schema.RunTask, attempt int, paths []resultfiles.Found) ([]schema.ResultFile, *commit, error) {
	for _, p := range paths {
		if !resultfiles.SafePath(p.Name) {
			return nil, nil, refuse(fmt.Errorf("refusing result file name %q: not a relative path of plain names, or one simswarm keeps for itself (.simswarm*)", p.Name))
		}
	}
	bp, _ := h.scratch.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, chunkSize)
		bp = &b
	}
	defer h.scratch.Put(bp)
	scratch := *bp
	db := h.DB
	chunks := db.Collection(schema.BucketResults + ".chunks")
	var (
		files   []schema.ResultFile
		fileDoc []any
		batch   []chunkDoc
		batched int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := chunks.InsertMany(ctx, batch)
		batch, batched = batch[:0], 0
		return err
	}
	fail := func(err error) ([]schema.ResultFile, *commit, error) {
		h.deleteFiles(files)
		return nil, nil, err
	}
	for _, found := range paths {
		name, p := found.Name, found.Path
		id := bson.NewObjectID()
		// Listed before its chunks are written, so that a failure part way
		// removes what was written.
		files = append(files, schema.ResultFile{Name: name, FileID: id})
		rf := &files[len(files)-1]
		f, err := os.Open(p)
		if err != nil {
			return fail(err)
		}
		sum := sha256.New()
		var size int64
		for n := int32(0); ; n++ {
			k, rerr := io.ReadFull(f, scratch)
			if k > 0 {
				sum.Write(scratch[:k])
				size += int64(k)
				// The batch holds each chunk until the insert: a copy of
				// the chunk's own size, not a whole chunk per small file.
				data := append([]byte(nil), scratch[:k]...)
				batch = append(batch, chunkDoc{ID: bson.NewObjectID(), FilesID: id, N: n, Data: data})
				batched += k
				if batched >= maxBatchBytes {
					if err := flush(); err != nil {
						f.Close()
						return fail(fmt.Errorf("upload %s: %w", name, err))
					}
				}
			}
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			if rerr != nil {
				f.Close()
				return fail(fmt.Errorf("read %s: %w", name, rerr))
			}
		}
		f.Close()
		rf.Size, rf.SHA256 = size, hex.EncodeToString(sum.Sum(nil))
		meta := bson.M{"campaign": rt.Campaign, "uid": rt.UID, "run": rt.Run, "attempt": attempt,
			"name": name, "size": size, "sha256": rf.SHA256}
		fileDoc = append(fileDoc, bson.D{{Key: "_id", Value: id}, {Key: "length", Value: size},
			{Key: "chunkSize", Value: int32(chunkSize)}, {Key: "uploadDate", Value: time.Now().UTC()},
			{Key: "filename", Value: schema.ResultName(rt.Campaign, rt.UID, rt.Run, name)}, {Key: "metadata", Value: meta}})
	}
	return files, &commit{chunks: batch, files: fileDoc}, nil
}

// deleteFiles removes uploads that must not stay (their file documents and
// chunks, present or not); best effort with its own deadline, since the
// task's context may be what failed.
func (h *Handler) deleteFiles(files []schema.ResultFile) {
	if len(files) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := h.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	for _, f := range files {
		if err := b.Delete(ctx, f.FileID); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			h.logger().Warn("cannot delete result", zap.String("file", f.Name), zap.Error(err))
		}
	}
}
