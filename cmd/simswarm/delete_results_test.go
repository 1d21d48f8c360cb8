package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// storedCampaign is a suspended campaign with two succeeded runs whose
// result files are in GridFS as a runner stores them (file documents with
// metadata, several chunks each). Run 0 has a completion, as runners
// write; run 1 only its record, as older versions left them.
type storedCampaign struct {
	name, uid string
	files     map[string][]byte // by file name
	fileIDs   []any
}

func storeCampaignWithResults(t *testing.T, st *store.Store, name string) *storedCampaign {
	t.Helper()
	ctx := context.Background()
	c, err := st.Create(ctx, &api.Campaign{Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Suspend: true, Source: api.SourceSpec{Archive: "x"},
			Simulation: api.SimulationSpec{Program: []string{"x"}, Runs: "0..1"}}})
	if err != nil {
		t.Fatal(err)
	}
	sc := &storedCampaign{name: name, uid: c.Metadata.UID, files: map[string][]byte{}}
	b := st.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults).SetChunkSizeBytes(1024))
	for run := 0; run < 2; run++ {
		var files []schema.ResultFile
		for _, ext := range []string{"sca", "vec"} {
			fname := fmt.Sprintf("General-#%d.%s", run, ext)
			data := bytes.Repeat([]byte(fmt.Sprintf("%s %s run %d\n", name, ext, run)), 200) // several chunks
			id, err := b.UploadFromStream(ctx, schema.ResultName(name, sc.uid, run, fname), bytes.NewReader(data),
				options.GridFSUpload().SetMetadata(bson.M{"campaign": name, "uid": sc.uid, "run": run, "name": fname}))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			files = append(files, schema.ResultFile{Name: fname, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), FileID: id})
			sc.files[fname] = data
			sc.fileIDs = append(sc.fileIDs, id)
		}
		id := store.RunID(name, sc.uid, run)
		now := time.Now().UTC()
		if _, err := st.DB.Collection(schema.CollRuns).InsertOne(ctx, schema.RunRecord{ID: id, Campaign: name, UID: sc.uid, Run: run,
			State: schema.RunSucceeded, Attempts: 1, Files: files, UpdatedAt: now, FinishedAt: &now}); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			if _, err := st.DB.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: id, Campaign: name, UID: sc.uid,
				Attempt: 1, Files: files, FinishedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return sc
}

func (sc *storedCampaign) bytes() int64 {
	var n int64
	for _, d := range sc.files {
		n += int64(len(d))
	}
	return n
}

// stored counts the GridFS file documents and chunks of sc's results.
func (sc *storedCampaign) stored(t *testing.T, st *store.Store) (files, chunks int64) {
	t.Helper()
	ctx := context.Background()
	files, err := st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{"_id": bson.M{"$in": sc.fileIDs}})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err = st.DB.Collection(schema.BucketResults+".chunks").CountDocuments(ctx, bson.M{"files_id": bson.M{"$in": sc.fileIDs}})
	if err != nil {
		t.Fatal(err)
	}
	return files, chunks
}

func count(t *testing.T, st *store.Store, coll string, f bson.M) int64 {
	t.Helper()
	n, err := st.DB.Collection(coll).CountDocuments(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The results of a deleted campaign stay reachable under its uid: listed
// (name, uid, deletion time, files, bytes), pulled byte for byte, and
// freed by prune (files and chunks, of that uid only); --purge frees them
// with the campaign; bad input gets a clear error.
func TestDeletedCampaignResultsAreListedPulledAndPruned(t *testing.T) {
	_, mongoURI := startController(t)
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	one := storeCampaignWithResults(t, st, "one")
	two := storeCampaignWithResults(t, st, "two")
	gone := storeCampaignWithResults(t, st, "gone")
	live := storeCampaignWithResults(t, st, "live")

	// Delete keeps the results and says how to reach and free them.
	out := mustCLI(t, "delete", "one")
	for _, want := range []string{"campaign/one deleted", one.uid, "results pull --uid " + one.uid, "results prune --uid " + one.uid} {
		if !strings.Contains(out, want) {
			t.Fatalf("delete output lacks %q:\n%s", want, out)
		}
	}
	mustCLI(t, "delete", "campaign", "two")
	if n := count(t, st, schema.CollRuns, bson.M{"campaign": bson.M{"$in": []string{"one", "two"}}}); n != 0 {
		t.Fatalf("%d run records of deleted campaigns left", n)
	}
	if _, err := cli(t, "get", "campaigns", "one"); err == nil {
		t.Fatal("deleted campaign still there")
	}
	out = mustCLI(t, "results", "list")
	for _, sc := range []*storedCampaign{one, two} {
		want := fmt.Sprintf("%d (", sc.bytes())
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, sc.uid) {
				line = l
			}
		}
		if !strings.HasPrefix(line, sc.name+" ") || !strings.Contains(line, "Kept") || !strings.Contains(line, "  4  ") ||
			!strings.Contains(line, want) || !strings.Contains(line, time.Now().UTC().Format("2006-01-02")) {
			t.Fatalf("results list line of %s (uid %s) wrong, want name, Kept, 4 files, %d bytes, today:\n%s", sc.name, sc.uid, sc.bytes(), out)
		}
	}
	if strings.Contains(out, live.uid) {
		t.Fatalf("a live campaign listed as deleted:\n%s", out)
	}

	// Pull by uid: the same bytes.
	dir := filepath.Join(t.TempDir(), "results")
	out = mustCLI(t, "results", "pull", "--uid", one.uid, "-o", dir)
	if !strings.Contains(out, "4 files downloaded") {
		t.Fatalf("pull --uid: %q", out)
	}
	for name, want := range one.files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("pulled %s differs (%d bytes, want %d): %v", name, len(got), len(want), err)
		}
	}

	// Bad input: clear errors, nothing freed.
	_, err = cli(t, "results", "prune", "--uid", live.uid)
	if err == nil || !strings.Contains(err.Error(), "live campaign live") {
		t.Fatalf("prune of a live campaign's results: %v", err)
	}
	_, err = cli(t, "results", "prune", "--uid", "no-such-uid")
	if err == nil || !strings.Contains(err.Error(), `no kept result set has uid "no-such-uid"`) {
		t.Fatalf("prune of an unknown uid: %v", err)
	}
	_, err = cli(t, "results", "pull", "--uid", "no-such-uid", "-o", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no kept result set") {
		t.Fatalf("pull of an unknown uid: %v", err)
	}
	if _, err = cli(t, "results", "prune"); err == nil || !strings.Contains(err.Error(), "--uid UID or --all-deleted") {
		t.Fatalf("prune without a selection: %v", err)
	}
	if out := mustCLI(t, "results", "prune", "--all-deleted", "--older-than", "1h"); !strings.Contains(out, "nothing to prune") {
		t.Fatalf("prune --older-than 1h of result sets deleted just now: %q", out)
	}
	if f, c := live.stored(t, st); f != 4 || c < 8 {
		t.Fatalf("live campaign's results touched: %d files, %d chunks", f, c)
	}

	// Prune one: its files and chunks go, two's stay.
	if f, c := one.stored(t, st); f != 4 || c < 8 {
		t.Fatalf("before prune: %d files, %d chunks", f, c)
	}
	_, twoChunks := two.stored(t, st)
	out = mustCLI(t, "results", "prune", "--uid", one.uid)
	if !strings.Contains(out, "pruned result set "+one.uid) {
		t.Fatalf("prune: %q", out)
	}
	if f, c := one.stored(t, st); f != 0 || c != 0 {
		t.Fatalf("after prune: %d files, %d chunks of the pruned uid left", f, c)
	}
	if f, c := two.stored(t, st); f != 4 || c != twoChunks {
		t.Fatalf("another uid's results touched by the prune: %d files, %d chunks (want 4, %d)", f, c, twoChunks)
	}
	if n := count(t, st, schema.CollCompletions, bson.M{"uid": one.uid}); n != 0 {
		t.Fatalf("%d completions of the pruned uid left", n)
	}
	if out := mustCLI(t, "results", "list"); strings.Contains(out, one.uid) || !strings.Contains(out, two.uid) {
		t.Fatalf("results list after prune:\n%s", out)
	}
	if _, err := cli(t, "results", "pull", "--uid", one.uid, "-o", t.TempDir()); err == nil {
		t.Fatal("pull of a pruned result set succeeded")
	}

	// --purge: records, files, chunks and completions all go; no result set.
	out = mustCLI(t, "delete", "gone", "--purge")
	if !strings.Contains(out, "deleted too") {
		t.Fatalf("delete --purge output: %q", out)
	}
	if f, c := gone.stored(t, st); f != 0 || c != 0 {
		t.Fatalf("after delete --purge: %d files, %d chunks left", f, c)
	}
	if n := count(t, st, schema.CollRuns, bson.M{"campaign": "gone"}) + count(t, st, schema.CollCompletions, bson.M{"uid": gone.uid}); n != 0 {
		t.Fatalf("after delete --purge: %d records and completions left", n)
	}
	if out := mustCLI(t, "results", "list"); strings.Contains(out, gone.uid) {
		t.Fatalf("purged campaign listed:\n%s", out)
	}
	if f, _ := two.stored(t, st); f != 4 {
		t.Fatalf("purge touched another result set: %d files", f)
	}
}
