package gridfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MaxReplyBytes bounds the chunk data one reply of the chunk cursor holds:
// far below MongoDB's 16 MiB document and 48 MB message limits.
const MaxReplyBytes = 4 << 20

// maxBatchChunks bounds the chunks of one reply of small files.
const maxBatchChunks = 4096

// batchSize is how many chunks of at most largest bytes one reply may
// carry.
func batchSize(largest int64) int32 {
	return int32(min(maxBatchChunks, max(1, MaxReplyBytes/max(largest, 1))))
}

// File is a GridFS files document.
type File struct {
	ID        any      `bson:"_id"`
	Length    int64    `bson:"length"`
	ChunkSize int32    `bson:"chunkSize"`
	Filename  string   `bson:"filename"`
	Metadata  bson.Raw `bson:"metadata,omitempty"`
}

// OpenByID opens the file with _id id in bucket; mongo.ErrFileNotFound if
// there is none.
func OpenByID(ctx context.Context, db *mongo.Database, bucket string, id any) (*Reader, error) {
	return open(ctx, db, bucket, bson.M{"_id": id}, nil)
}

// OpenByName opens the newest file (by uploadDate) named name in bucket,
// as the driver's OpenDownloadStreamByName does; mongo.ErrFileNotFound if
// there is none.
func OpenByName(ctx context.Context, db *mongo.Database, bucket, name string) (*Reader, error) {
	return open(ctx, db, bucket, bson.M{"filename": name},
		options.FindOne().SetSort(bson.D{{Key: "uploadDate", Value: -1}}))
}

func open(ctx context.Context, db *mongo.Database, bucket string, filter bson.M, opts *options.FindOneOptionsBuilder) (*Reader, error) {
	var f File
	var err error
	if opts != nil {
		err = db.Collection(bucket+".files").FindOne(ctx, filter, opts).Decode(&f)
	} else {
		err = db.Collection(bucket+".files").FindOne(ctx, filter).Decode(&f)
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, mongo.ErrFileNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find file in %s: %w", bucket, err)
	}
	return NewReader(ctx, db, bucket, f), nil
}

// NewReader reads the chunks of f (a files document already read, e.g.
// listed with its run) from bucket. The query runs at the first Read.
func NewReader(ctx context.Context, db *mongo.Database, bucket string, f File) *Reader {
	return &Reader{ctx: ctx, chunks: db.Collection(bucket + ".chunks"), file: f, left: f.Length}
}

// Reader streams one file's bytes.
type Reader struct {
	ctx    context.Context
	chunks *mongo.Collection
	file   File
	cur    *mongo.Cursor
	shared bool   // cur belongs to ReadEach, positioned on the first chunk
	key    string // with shared: the idKey of the file
	next   int64  // the chunk expected next
	left   int64  // bytes not yet returned
	buf    []byte // unread part of the current chunk (a view into the reply)
	err    error
}

// File is the files document being read.
func (r *Reader) File() File { return r.file }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.left == 0 {
			r.err = io.EOF
			r.closeCursor()
			return 0, io.EOF
		}
		r.err = r.nextChunk()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.left -= int64(n)
	return n, nil
}

func (r *Reader) nextChunk() error {
	size := int64(r.file.ChunkSize)
	if size <= 0 {
		return fmt.Errorf("file %v (%s): chunk size %d", r.file.ID, r.file.Filename, size)
	}
	if r.shared {
		// The first chunk is the cursor's current one already; the next
		// ones must still be this file's.
		if r.next > 0 && !r.cur.Next(r.ctx) {
			if err := r.cur.Err(); err != nil {
				return fmt.Errorf("read chunks of %v (%s): %w", r.file.ID, r.file.Filename, err)
			}
			return fmt.Errorf("file %v (%s): chunk %d missing: %w", r.file.ID, r.file.Filename, r.next, io.ErrUnexpectedEOF)
		}
		rv := r.cur.Current.Lookup("files_id")
		if string(rune(rv.Type))+string(rv.Value) != r.key {
			return fmt.Errorf("file %v (%s): chunk %d missing: %w", r.file.ID, r.file.Filename, r.next, io.ErrUnexpectedEOF)
		}
		return r.takeChunk(size)
	}
	if r.cur == nil {
		batch := batchSize(min(size, r.file.Length))
		cur, err := r.chunks.Find(r.ctx, bson.M{"files_id": r.file.ID},
			options.Find().SetSort(bson.D{{Key: "n", Value: 1}}).SetBatchSize(batch))
		if err != nil {
			return fmt.Errorf("read chunks of %v (%s): %w", r.file.ID, r.file.Filename, err)
		}
		r.cur = cur
	}
	if !r.cur.Next(r.ctx) {
		if err := r.cur.Err(); err != nil {
			return fmt.Errorf("read chunks of %v (%s): %w", r.file.ID, r.file.Filename, err)
		}
		return fmt.Errorf("file %v (%s): chunk %d missing: %w", r.file.ID, r.file.Filename, r.next, io.ErrUnexpectedEOF)
	}
	return r.takeChunk(size)
}

// takeChunk checks the cursor's current chunk and makes it the one read.
func (r *Reader) takeChunk(size int64) error {
	n, ok := r.cur.Current.Lookup("n").AsInt64OK()
	if !ok || n != r.next {
		return fmt.Errorf("file %v (%s): chunk %d where %d was due: %w", r.file.ID, r.file.Filename, n, r.next, io.ErrUnexpectedEOF)
	}
	_, data, ok := r.cur.Current.Lookup("data").BinaryOK()
	if !ok {
		return fmt.Errorf("file %v (%s): chunk %d holds no binary data", r.file.ID, r.file.Filename, n)
	}
	if want := min(size, r.left); int64(len(data)) != want {
		return fmt.Errorf("file %v (%s): chunk %d holds %d bytes, want %d: %w", r.file.ID, r.file.Filename, n, len(data), want, io.ErrUnexpectedEOF)
	}
	r.buf = data
	r.next++
	return nil
}

func (r *Reader) closeCursor() {
	if r.cur != nil && !r.shared {
		// Its own short deadline: the read's context may be what ended.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 5*time.Second)
		_ = r.cur.Close(ctx)
		cancel()
		r.cur = nil
	}
}

// Close releases the cursor.
func (r *Reader) Close() error {
	r.closeCursor()
	if r.err == nil {
		r.err = errors.New("read after close")
	}
	return nil
}
