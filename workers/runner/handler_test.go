package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

const key = "00aa11bb22cc33dd44ee55ff66778899aabbccddeeff00112233445566778899"

// setup stores an artifact (fakesim + ini) and returns the database.
func setup(t *testing.T, ini string) *mongo.Database {
	t.Helper()
	_, db := setupServer(t, ini)
	return db
}

// setupServer is setup returning the MongoDB-wire server too, for tests
// that stop and start it.
func setupServer(t *testing.T, ini string) (*testdb.Mongo, *mongo.Database) {
	t.Helper()
	ctx := context.Background()
	m := testdb.StartMongoServer(t)
	client, db, err := schema.Connect(ctx, m.URI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	src := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(src, "fakesim"), "../../test/fixtures/fakesim")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(src, "omnetpp.ini"), []byte(ini), 0o644)
	storeArtifact(t, db, src, key)
	return m, db
}

func task(t *testing.T, db *mongo.Database, run int) *asynq.Task {
	t.Helper()
	rec := schema.RunRecord{ID: schema.RunID("c", "u1", run), Campaign: "c", UID: "u1", Run: run, State: schema.RunQueued}
	if _, err := db.Collection(schema.CollRuns).InsertOne(context.Background(), rec); err != nil && !mongo.IsDuplicateKeyError(err) {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "u1", Run: run, ArtifactKey: key,
		Simulation: api.SimulationSpec{Program: []string{"./fakesim"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: "."},
		Results:    []string{"results/*.sca", "results/*.vec"}, Timeout: api.Duration{Duration: time.Minute}})
	return asynq.NewTask(schema.TypeRun, payload)
}

func handler(t *testing.T, db *mongo.Database, cache string) *Handler {
	return &Handler{DB: db, Cache: NewCache(cache, db), WorkDir: t.TempDir(), Worker: "w"}
}

func record(t *testing.T, db *mongo.Database, run int) schema.RunRecord {
	t.Helper()
	var r schema.RunRecord
	if err := db.Collection(schema.CollRuns).FindOne(context.Background(), bson.M{"_id": schema.RunID("c", "u1", run)}).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConcurrentAttemptsStoreResultsOnce(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=slow,ok}\n")
	t.Setenv("FAKESIM_SLOW", "300ms")
	cache := t.TempDir() // shared by both "processes", as on one host
	tk := task(t, db, 0)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = handler(t, db, cache).ProcessTask(context.Background(), tk) }()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	r := record(t, db, 0)
	if r.State != schema.RunSucceeded || len(r.Files) != 2 {
		t.Fatalf("record %+v", r)
	}
	n, _ := db.Collection(schema.BucketResults+".files").CountDocuments(context.Background(), bson.M{})
	if n != 2 {
		t.Fatalf("%d files in GridFS after two attempts, want 2 (one run's .sca and .vec)", n)
	}
	var meta struct {
		Metadata bson.M `bson:"metadata"`
	}
	db.Collection(schema.BucketResults+".files").FindOne(context.Background(), bson.M{"metadata.name": "General-mode=slow-#0.sca"}).Decode(&meta)
	if meta.Metadata["campaign"] != "c" || meta.Metadata["sha256"] != r.Files[1].SHA256 && meta.Metadata["sha256"] != r.Files[0].SHA256 {
		t.Fatalf("metadata %v", meta.Metadata)
	}
	// A redelivery after success changes nothing.
	if err := handler(t, db, cache).ProcessTask(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Collection(schema.BucketResults+".files").CountDocuments(context.Background(), bson.M{}); n != 2 {
		t.Fatalf("%d files after a redelivery", n)
	}
}

func TestCrashIsRecordedWithStderrTail(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=crash}\n")
	h := handler(t, db, t.TempDir())
	var announced []string
	h.Changed = func(_ context.Context, campaign string) { announced = append(announced, campaign) }
	if err := h.ProcessTask(context.Background(), task(t, db, 0)); err != nil {
		t.Fatalf("a simulation crash is not a queue error: %v", err)
	}
	if len(announced) != 1 || announced[0] != "c" {
		t.Errorf("the finished run announced %q, want [c] once (the controller reacts to it at once)", announced)
	}
	r := record(t, db, 0)
	if r.State != schema.RunFailed || !strings.Contains(r.Message, "segmentation fault") ||
		!strings.Contains(r.StderrTail, "about to dereference a null pointer") || r.Attempts != 1 {
		t.Fatalf("record %+v", r)
	}
	if n, _ := db.Collection(schema.BucketResults+".files").CountDocuments(context.Background(), bson.M{}); n != 0 {
		t.Fatalf("a crashed run stored %d files", n)
	}
}

func TestMongoDownIsAQueueError(t *testing.T) {
	db := setup(t, "[General]\n")
	tk := task(t, db, 0)
	db.Client().Disconnect(context.Background())
	if err := handler(t, db, t.TempDir()).ProcessTask(context.Background(), tk); err == nil {
		t.Fatal("want an error for asynq to retry")
	}
}

func TestCacheRejectsBadKeysAndDigestMismatch(t *testing.T) {
	db := setup(t, "[General]\n")
	c := NewCache(t.TempDir(), db)
	if _, err := c.Get(context.Background(), "../etc"); err == nil {
		t.Fatal("path-like key accepted")
	}
	db.Collection(schema.CollBuilds).UpdateOne(context.Background(), bson.M{"_id": key}, bson.M{"$set": bson.M{"sha256": "beef"}})
	if _, err := c.Get(context.Background(), key); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("corrupt artifact accepted: %v", err)
	}
}

// TestArtifactFetchedOncePerDigest: later runs with the same artifact key
// use the host's cache, even once the artifact is gone from GridFS, and
// result files carry the full metadata of the contract.
func TestArtifactFetchedOncePerDigest(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=ok,ok}\n")
	ctx := context.Background()
	cache := t.TempDir()
	if err := handler(t, db, cache).ProcessTask(ctx, task(t, db, 0)); err != nil {
		t.Fatal(err)
	}
	b := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts))
	var f struct {
		ID any `bson:"_id"`
	}
	if err := db.Collection(schema.BucketArtifacts+".files").FindOne(ctx, bson.M{"filename": schema.ArtifactName(key)}).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if err := handler(t, db, cache).ProcessTask(ctx, task(t, db, 1)); err != nil {
		t.Fatal(err)
	}
	r := record(t, db, 1)
	if r.State != schema.RunSucceeded || r.Worker != "w" || r.Attempts != 1 || r.FinishedAt == nil {
		t.Fatalf("second run did not use the cached artifact: %+v", r)
	}
	entries, _ := os.ReadDir(cache)
	dirs := 0
	for _, e := range entries {
		if e.IsDir() {
			dirs++
		}
	}
	if dirs != 1 {
		t.Fatalf("%d directories in the cache, want the one unpacked artifact", dirs)
	}
	for _, rf := range r.Files {
		var doc struct {
			Filename string `bson:"filename"`
			Length   int64  `bson:"length"`
			Metadata bson.M `bson:"metadata"`
		}
		if err := db.Collection(schema.BucketResults+".files").FindOne(ctx, bson.M{"_id": rf.FileID}).Decode(&doc); err != nil {
			t.Fatalf("%s: %v", rf.Name, err)
		}
		m := doc.Metadata
		_, hasAttempt := m["attempt"]
		if !hasAttempt || doc.Filename != schema.ResultName("c", "u1", 1, rf.Name) || doc.Length != rf.Size ||
			m["campaign"] != "c" || m["uid"] != "u1" || fmt.Sprint(m["run"]) != "1" ||
			m["name"] != rf.Name || fmt.Sprint(m["size"]) != fmt.Sprint(rf.Size) || m["sha256"] != rf.SHA256 || len(rf.SHA256) != 64 {
			t.Fatalf("stored %+v for %+v", doc, rf)
		}
	}
}

// TestRunAfterMongoRestart: while the MongoDB-wire server is down the task
// fails (asynq retries it); after it is back the same handler, with the same
// client, completes the run.
func TestRunAfterMongoRestart(t *testing.T) {
	m, db := setupServer(t, "[General]\n")
	tk := task(t, db, 0)
	m.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	h := handler(t, db, t.TempDir())
	if err := h.ProcessTask(ctx, tk); err == nil {
		t.Fatal("want an error for asynq to retry while Mongo is down")
	}
	m.Start(t)
	if err := h.ProcessTask(context.Background(), tk); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if r := record(t, db, 0); r.State != schema.RunSucceeded || len(r.Files) != 2 {
		t.Fatalf("record %+v", r)
	}
}

// TestLateAttemptsSettleFromTheCompletion: an attempt that claims a run
// after another attempt completed it, or fails after it, leaves the record
// as the completion says (Succeeded, the winner's files) and stores
// nothing of its own.
func TestLateAttemptsSettleFromTheCompletion(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=ok,crash}\n")
	ctx := context.Background()
	win := []schema.ResultFile{{Name: "winner.sca", Size: 1, SHA256: "ab", FileID: "f1"}}
	for run := range 2 {
		tk := task(t, db, run)
		id := schema.RunID("c", "u1", run)
		if _, err := db.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: id, Campaign: "c", UID: "u1",
			Worker: "w0", Files: win, FinishedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		// The record still says Running: the winner has not set it yet.
		db.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"state": schema.RunRunning}})
		if err := handler(t, db, t.TempDir()).ProcessTask(ctx, tk); err != nil {
			t.Fatal(err)
		}
		r := record(t, db, run)
		if r.State != schema.RunSucceeded || len(r.Files) != 1 || r.Files[0].Name != "winner.sca" || r.Worker != "w0" {
			t.Errorf("run %d: record %+v, want the completion's outcome", run, r)
		}
	}
	if n, _ := db.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{}); n != 0 {
		t.Fatalf("late attempts stored %d files", n)
	}
}

// TestAttemptsComeFromTheTaskAndNeverGoDown: a first delivery numbers its
// attempt from the attempts the task carries (without reading the record),
// and a stale task's failure cannot lower the attempts a record already
// counts, which the controller's retries go by.
func TestAttemptsComeFromTheTaskAndNeverGoDown(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=ok,crash}\n")
	ctx := context.Background()
	withAttempts := func(tk *asynq.Task, n int) *asynq.Task {
		var rt schema.RunTask
		if err := json.Unmarshal(tk.Payload(), &rt); err != nil {
			t.Fatal(err)
		}
		rt.Attempt = n
		b, _ := json.Marshal(rt)
		return asynq.NewTask(schema.TypeRun, b)
	}
	ok := withAttempts(task(t, db, 0), 2)
	if err := handler(t, db, t.TempDir()).ProcessTask(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if r := record(t, db, 0); r.State != schema.RunSucceeded || r.Attempts != 3 {
		t.Errorf("sent after 2 attempts: record says %s after %d attempts, want Succeeded after 3", r.State, r.Attempts)
	}

	crash := task(t, db, 1)
	db.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": schema.RunID("c", "u1", 1)},
		bson.M{"$set": bson.M{"state": schema.RunFailed, "attempts": 4}})
	if err := handler(t, db, t.TempDir()).ProcessTask(ctx, crash); err != nil {
		t.Fatal(err)
	}
	if r := record(t, db, 1); r.State != schema.RunFailed || r.Attempts != 4 {
		t.Errorf("a stale task's failure: record says %s after %d attempts, want Failed after 4", r.State, r.Attempts)
	}
}
