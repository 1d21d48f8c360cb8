package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// TestUploadWritesGridFSTheDriverReads: the result files' GridFS documents
// written by hand (an empty file, a small one, one of three chunks) read
// back byte for byte through the driver's bucket, with the metadata that
// pulls verify against.
func TestUploadWritesGridFSTheDriverReads(t *testing.T) {
	ctx := context.Background()
	db := connect(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 2*chunkSize+1234)
	for i := range big {
		big[i] = byte(rng.IntN(256))
	}
	contents := map[string][]byte{"empty.sca": nil, "small.sca": []byte("scalar . x 1\n"), "big.vec": big}
	var paths []resultfiles.Found
	for name, b := range contents {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, resultfiles.Found{Path: p, Name: name})
	}
	h := &Handler{DB: db}
	files, c, err := h.upload(ctx, schema.RunTask{Campaign: "c", UID: "u1", Run: 7}, 2, paths)
	if err != nil {
		t.Fatal(err)
	}
	c.comp = &schema.Completion{ID: schema.RunID("c", "u1", 7), Files: files}
	if err := h.commits.store(h.writer(), c); err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("%d files recorded, want 3", len(files))
	}
	bucket := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	for _, f := range files {
		want := contents[f.Name]
		sum := sha256.Sum256(want)
		if f.Size != int64(len(want)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s recorded as %d bytes %s", f.Name, f.Size, f.SHA256)
		}
		var got bytes.Buffer
		if _, err := bucket.DownloadToStream(ctx, f.FileID, &got); err != nil {
			t.Fatalf("download %s: %v", f.Name, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s reads back as %d bytes, want %d", f.Name, got.Len(), len(want))
		}
		var doc struct {
			Filename string `bson:"filename"`
			Metadata bson.M `bson:"metadata"`
		}
		if err := db.Collection(schema.BucketResults+".files").FindOne(ctx, bson.M{"_id": f.FileID}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if doc.Filename != schema.ResultName("c", "u1", 7, f.Name) || doc.Metadata["sha256"] != f.SHA256 ||
			doc.Metadata["attempt"] != int32(2) || doc.Metadata["run"] != int32(7) {
			t.Errorf("%s file document %+v", f.Name, doc)
		}
	}
	if n, _ := db.Collection(schema.BucketResults+".chunks").CountDocuments(ctx, bson.M{}); n != 4 {
		t.Errorf("%d chunks, want 4 (none for the empty file, 1 small, 3 big)", n)
	}
}

// TestUploadOfAMissingFileLeavesNothing: a file that cannot be read fails
// the upload, and the chunks already written for the others are removed.
func TestUploadOfAMissingFileLeavesNothing(t *testing.T) {
	ctx := context.Background()
	db := connect(t)
	dir := t.TempDir()
	ok := filepath.Join(dir, "a.sca")
	os.WriteFile(ok, bytes.Repeat([]byte("x"), 9<<20), 0o644) // more than one batch: written before the failure
	if _, _, err := (&Handler{DB: db}).upload(ctx, schema.RunTask{Campaign: "c", UID: "u1", Run: 1}, 1,
		[]resultfiles.Found{{Path: ok, Name: "a.sca"}, {Path: filepath.Join(dir, "gone.sca"), Name: "gone.sca"}}); err == nil {
		t.Fatal("upload with a missing file succeeded")
	}
	for _, coll := range []string{".files", ".chunks"} {
		if n, _ := db.Collection(schema.BucketResults+coll).CountDocuments(ctx, bson.M{}); n != 0 {
			t.Errorf("%d documents left in %s", n, coll)
		}
	}
}

// connect returns the database of a fresh MongoDB-wire server.
func connect(t *testing.T) *mongo.Database {
	t.Helper()
	client, db, err := schema.Connect(context.Background(), testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return db
}
