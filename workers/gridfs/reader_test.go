package gridfs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/gridfs"
)

func connect(t *testing.T) *mongo.Database {
	t.Helper()
	ctx := context.Background()
	client, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return db
}

func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// upload stores data with the driver's upload stream (as the builder and
// the source upload do) and returns the file's id.
func upload(t *testing.T, db *mongo.Database, bucket, name string, data []byte) any {
	t.Helper()
	return uploadChunks(t, db, bucket, name, data, 255*1024)
}

func uploadChunks(t *testing.T, db *mongo.Database, bucket, name string, data []byte, chunkSize int32) any {
	t.Helper()
	b := db.GridFSBucket(options.GridFSBucket().SetName(bucket).SetChunkSizeBytes(chunkSize))
	id, err := b.UploadFromStream(context.Background(), name, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestReadsAFileLargerThanAWireMessage: a file of more than 48 MB reads
// back whole on FerretDB, which answers a find or getMore without a batch
// size with up to 101 or all remaining chunks (the driver's download
// stream then fails with "length of read message too large": with
// 255 KiB chunks from about 75 MB on, here at once with 1 MiB chunks).
func TestReadsAFileLargerThanAWireMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("stores and reads 60 MB")
	}
	db := connect(t)
	data := pseudoRandom(60<<20, 1)
	uploadChunks(t, db, "big", "f", data, 1<<20)
	r, err := gridfs.OpenByName(context.Background(), db, "big", "f")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read %d bytes, then: %v", n, err)
	}
	if n != int64(len(data)) || !bytes.Equal(h.Sum(nil), sha(data)) {
		t.Fatalf("read %d bytes with another digest, want %d", n, len(data))
	}
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestReadRefusesAMissingOrShortChunk: a file whose chunks do not add up to
// its length is an error, not a shorter file.
func TestReadRefusesAMissingOrShortChunk(t *testing.T) {
	db := connect(t)
	ctx := context.Background()
	data := pseudoRandom(3<<20, 2)
	missing := upload(t, db, "b", "missing", data)
	if _, err := db.Collection("b.chunks").DeleteOne(ctx, bson.M{"files_id": missing, "n": 5}); err != nil {
		t.Fatal(err)
	}
	trailing := upload(t, db, "b", "trailing", data)
	if _, err := db.Collection("b.chunks").DeleteOne(ctx, bson.M{"files_id": trailing, "n": 12}); err != nil {
		t.Fatal(err)
	}
	short := upload(t, db, "b", "short", data)
	if _, err := db.Collection("b.chunks").UpdateOne(ctx, bson.M{"files_id": short, "n": 2},
		bson.M{"$set": bson.M{"data": bson.Binary{Data: []byte("x")}}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []any{missing, trailing, short} {
		r, err := gridfs.OpenByID(ctx, db, "b", id)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: read %d bytes, err %v; want io.ErrUnexpectedEOF", r.File().Filename, n, err)
		}
	}
	whole := upload(t, db, "b", "whole", data)
	r, err := gridfs.OpenByID(ctx, db, "b", whole)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("whole file: %d bytes, %v", len(got), err)
	}
	if _, err := gridfs.OpenByName(ctx, db, "b", "nothing"); !errors.Is(err, mongo.ErrFileNotFound) {
		t.Errorf("open a missing name: %v, want mongo.ErrFileNotFound", err)
	}
	empty := upload(t, db, "b", "empty", nil)
	r, err = gridfs.OpenByID(ctx, db, "b", empty)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || len(got) != 0 {
		t.Errorf("empty file: %d bytes, %v", len(got), err)
	}
}

// TestReadEachStreamsManyFilesThroughOneQuery: files of every shape (empty,
// one chunk, several) come back whole from one chunk query, the chunks of
// a file not asked for in the same range of ids are passed over, and a
// file with a missing chunk fails the read.
func TestReadEachStreamsManyFilesThroughOneQuery(t *testing.T) {
	db := connect(t)
	ctx := context.Background()
	want := map[string][]byte{
		"empty": nil, "one": []byte("scalar 1\n"), "three": pseudoRandom(600<<10, 3), "exact": pseudoRandom(255<<10, 4),
	}
	var ids []any
	for _, name := range []string{"empty", "one", "other", "three", "exact"} {
		id := upload(t, db, "r", name, append([]byte(nil), want[name]...))
		if name != "other" {
			ids = append(ids, id)
		}
	}
	files, err := gridfs.Files(ctx, db, "r", ids)
	if err != nil || len(files) != len(ids) {
		t.Fatalf("Files: %d of %d, %v", len(files), len(ids), err)
	}
	got := map[string][]byte{}
	err = gridfs.ReadEach(ctx, db, "r", files, func(f gridfs.File, r io.Reader) error {
		b, err := io.ReadAll(r)
		got[f.Filename] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("read %d files, want %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s: %d bytes, want %d", name, len(got[name]), len(b))
		}
	}
	if _, err := db.Collection("r.chunks").DeleteOne(ctx, bson.M{"files_id": ids[2], "n": 1}); err != nil {
		t.Fatal(err)
	}
	err = gridfs.ReadEach(ctx, db, "r", files, func(f gridfs.File, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a file with a chunk missing: %v, want io.ErrUnexpectedEOF", err)
	}
}
