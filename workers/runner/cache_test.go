package runner

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

// TestCacheRefusesArtifactThatEscapesThroughLinks stores an artifact whose
// entries are safe by name but chain symlinks out of the unpack directory
// (the builder's output is as hostile as the source it built): the runner's
// cache must refuse it naming the entry, install nothing, and leave nothing
// outside its directory.
func TestCacheRefusesArtifactThatEscapesThroughLinks(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "."})
	tw.WriteHeader(&tar.Header{Name: "a/l1", Typeflag: tar.TypeSymlink, Linkname: ".."})
	tw.WriteHeader(&tar.Header{Name: "a/l1/l2", Typeflag: tar.TypeSymlink, Linkname: ".."})
	tw.WriteHeader(&tar.Header{Name: "a/l1/l2/pwned", Typeflag: tar.TypeReg, Mode: 0o755, Size: 2})
	tw.Write([]byte("x\n"))
	tw.Close()
	gz.Close()
	sum := sha256.Sum256(buf.Bytes())
	b := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts))
	if _, err := b.UploadFromStream(ctx, schema.ArtifactName(key), bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(schema.CollBuilds).InsertOne(ctx, schema.BuildRecord{Key: key, State: schema.BuildSucceeded, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	top := t.TempDir()
	dir := filepath.Join(top, "p1", "artifacts")
	_, err = NewCache(dir, db).Get(ctx, key)
	if err == nil || !strings.Contains(err.Error(), "a/l1") {
		t.Errorf("got %v, want a refusal naming a/l1", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, key)); err == nil {
		t.Error("the refused artifact was installed")
	}
	filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case p == dir:
			return filepath.SkipDir
		case d.Name() == "pwned" || d.Type()&fs.ModeSymlink != 0:
			t.Errorf("the artifact put %s outside the cache", p)
		}
		return nil
	})
}
