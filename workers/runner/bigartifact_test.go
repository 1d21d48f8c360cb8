package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/peakrss"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/builder"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/tarball"
)

// bigArtifactBytes is the size of the library in the artifact of
// TestLargeArtifactStreamsWithBoundedMemory: INET's is about 150 MB.
const bigArtifactBytes = 200 << 20

// maxArtifactRSS bounds the peak resident memory of the builder packing
// and storing it, and of the runner's cache fetching, checking and
// unpacking it: half the artifact, so that holding it whole (or half of
// it) fails. Measured: about 80 MiB for the builder (its 4 MiB inserts
// are copied into BSON and a wire message, and the heap runs at twice
// its live size between collections), under 50 MiB for the cache.
const maxArtifactRSS = 100 << 20

const bigKey = "b16b16b16b16b16b16b16b16b16b16b16b16b16b16b16b16b16b16b16b16b16b"

// TestLargeArtifactStreamsWithBoundedMemory: a build writes a 200 MB
// incompressible library; the builder packs and stores it, and a runner's
// cache fetches, checks and unpacks it. Each side runs in a process of its
// own (package peakrss) whose peak resident memory must stay under
// maxArtifactRSS, and the unpacked library is the build's, byte for byte.
func TestLargeArtifactStreamsWithBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a 200 MB artifact through a MongoDB-wire server")
	}
	if peakrss.InChild() {
		bigArtifactChild(t)
		return
	}
	uri := testdb.StartMongo(t)
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	// The source is a small archive; the build makes the library.
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "README"), []byte("a model whose build writes a large library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sha, _, err := tarball.Pack(src, []string{"."}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gridfs.Upload(ctx, db, schema.BucketSources, schema.SourceName(sha), &buf, nil); err != nil {
		t.Fatal(err)
	}

	buildPeak := peakrss.Run(t, "BIGART_MONGO="+uri, "BIGART_ROLE=build", "BIGART_SOURCE="+sha, "BIGART_DIR="+t.TempDir())
	var rec schema.BuildRecord
	if err := db.Collection(schema.CollBuilds).FindOne(ctx, bson.M{"_id": bigKey}).Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if rec.State != schema.BuildSucceeded || rec.Size < bigArtifactBytes {
		t.Fatalf("build record %+v, want Succeeded with an artifact of at least %d bytes", rec, bigArtifactBytes)
	}

	cache := t.TempDir()
	runPeak := peakrss.Run(t, "BIGART_MONGO="+uri, "BIGART_ROLE=fetch", "BIGART_DIR="+cache)
	lib := filepath.Join(cache, bigKey, "lib.so")
	sum, err := os.ReadFile(filepath.Join(cache, bigKey, "lib.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if got := digest(t, lib); got+"  lib.so\n" != string(sum) {
		t.Fatalf("unpacked lib.so has sha256 %s, the build's sha256sum said %q", got, sum)
	}

	t.Logf("200 MB artifact: builder (pack + store) peak RSS %d MiB, runner cache (fetch + check + unpack) %d MiB",
		buildPeak>>20, runPeak>>20)
	for name, peak := range map[string]int64{"builder": buildPeak, "runner's cache": runPeak} {
		if peak > maxArtifactRSS {
			t.Errorf("the %s peaked at %d MiB resident moving a %d MiB artifact, want under %d MiB",
				name, peak>>20, bigArtifactBytes>>20, maxArtifactRSS>>20)
		}
	}
}

// bigArtifactChild does one side's work in the measured child.
func bigArtifactChild(t *testing.T) {
	ctx := context.Background()
	client, db, err := schema.Connect(ctx, os.Getenv("BIGART_MONGO"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	dir := os.Getenv("BIGART_DIR")
	switch os.Getenv("BIGART_ROLE") {
	case "build":
		h := &builder.Handler{DB: db, WorkDir: dir, Worker: "b"}
		// sha256sum, not simswarm, takes the digest the test checks.
		cmd := "head -c " + strconv.Itoa(bigArtifactBytes) + " /dev/urandom > lib.so && sha256sum lib.so > lib.sum"
		p, _ := json.Marshal(schema.BuildTask{Campaign: "c", UID: "u", Key: bigKey,
			Source: api.SourceSpec{Archive: os.Getenv("BIGART_SOURCE")},
			Build:  api.BuildSpec{Command: []string{"sh", "-c", cmd}, Artifacts: []string{"lib.so", "lib.sum"}}})
		if err := h.ProcessTask(ctx, asynq.NewTask(schema.TypeBuild, p)); err != nil {
			t.Fatal(err)
		}
	case "fetch":
		if _, err := NewCache(dir, db).Get(ctx, bigKey); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("BIGART_ROLE %q", os.Getenv("BIGART_ROLE"))
	}
	peakrss.Report(t)
}

func digest(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
