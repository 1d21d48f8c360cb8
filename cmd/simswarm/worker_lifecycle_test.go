package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/heartbeat"
	"github.com/simswarm/simswarm/workers/tarball"
)

// storeFakesimArtifact uploads an artifact (the fixture simulation and an
// ini) under key, as a builder would have, and records the build.
func storeFakesimArtifact(t *testing.T, db *mongo.Database, key, ini string) {
	t.Helper()
	ctx := context.Background()
	src := t.TempDir()
	data, err := os.ReadFile(buildFakesim(t))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "fakesim"), data, 0o755)
	os.WriteFile(filepath.Join(src, "omnetpp.ini"), []byte(ini), 0o644)
	var buf bytes.Buffer
	sha, _, err := tarball.Pack(src, []string{"."}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts)).
		UploadFromStream(ctx, schema.ArtifactName(key), &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(schema.CollBuilds).InsertOne(ctx, schema.BuildRecord{Key: key, State: schema.BuildSucceeded, SHA256: sha}); err != nil {
		t.Fatal(err)
	}
}

// startRedisAndMongo starts a redis-server and a MongoDB-wire server for
// one test and connects to the latter.
func startRedisAndMongo(t *testing.T) (rs *testdb.Redis, mongoURI string, db *mongo.Database) {
	t.Helper()
	rs, mongoURI = testdb.StartRedis(t), testdb.StartMongo(t)
	client, db, err := schema.Connect(context.Background(), mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return rs, mongoURI, db
}

func waitUntil(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWorkerHeartbeatAndSigtermHandsBackTask runs `simswarm worker` as a
// process: it announces itself in Redis (JSON with a TTL); on SIGTERM in
// the middle of a simulation it stops within its grace, hands the task back
// to the queue and withdraws its heartbeat; a second worker then completes
// the run, whose results are stored once.
func TestWorkerHeartbeatAndSigtermHandsBackTask(t *testing.T) {
	rs, mongoURI, db := startRedisAndMongo(t)
	ctx := context.Background()
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	storeFakesimArtifact(t, db, key, "[General]\n**.mode = ${mode=slow}\n")
	runID := schema.RunID("c", "uid-1", 0)
	if _, err := db.Collection(schema.CollRuns).InsertOne(ctx, schema.RunRecord{ID: runID, Campaign: "c", UID: "uid-1", State: schema.RunQueued}); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "uid-1", Run: 0, ArtifactKey: key, Attempt: 0,
		Simulation: api.SimulationSpec{Program: []string{"./fakesim"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: ".",
			Env: map[string]string{"FAKESIM_SLOW": "5s"}},
		Results: []string{"results/*.sca", "results/*.vec"}, Timeout: api.Duration{Duration: time.Minute}})
	taskID := schema.RunTaskID("c", "uid-1", 0, 0)
	ropt, _ := redis.ParseURL(rs.URL())
	aq := asynq.NewClientFromRedisClient(redis.NewClient(ropt))
	defer aq.Close()
	if _, err := aq.Enqueue(asynq.NewTask(schema.TypeRun, payload), asynq.TaskID(taskID), asynq.Queue(schema.QueueRun), asynq.MaxRetry(5)); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()

	w := startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI, "--slots", "2",
		"--cache", t.TempDir(), "--name", "hb-1", "--shutdown-grace", "1s")
	var hb struct {
		Name  string `json:"name"`
		Role  string `json:"role"`
		Slots int    `json:"slots"`
		Task  string `json:"task"`
	}
	waitUntil(t, "the heartbeat", 20*time.Second, func() bool {
		v, err := rdb.Get(ctx, heartbeat.Key("hb-1")).Result()
		return err == nil && json.Unmarshal([]byte(v), &hb) == nil
	})
	if hb.Name != "hb-1" || hb.Role != "run" || hb.Slots != 2 {
		t.Fatalf("heartbeat %+v", hb)
	}
	if ttl := rdb.TTL(ctx, heartbeat.Key("hb-1")).Val(); ttl <= 0 || ttl > heartbeat.TTL {
		t.Fatalf("heartbeat TTL %s, want (0, %s]", ttl, heartbeat.TTL)
	}
	runs := db.Collection(schema.CollRuns)
	var rec schema.RunRecord
	// The run record is not written until the outcome: the heartbeat says
	// what the worker runs.
	waitUntil(t, "the run to start", 30*time.Second, func() bool {
		v, err := rdb.Get(ctx, heartbeat.Key("hb-1")).Result()
		return err == nil && json.Unmarshal([]byte(v), &hb) == nil && hb.Task != ""
	})

	stopped := time.Now()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("worker exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("worker did not stop within 15s of SIGTERM")
	}
	t.Logf("worker stopped %s after SIGTERM", time.Since(stopped).Round(time.Millisecond))
	if n := rdb.Exists(ctx, heartbeat.Key("hb-1")).Val(); n != 0 {
		t.Fatal("a stopped worker left its heartbeat")
	}
	insp := asynq.NewInspectorFromRedisClient(redis.NewClient(ropt))
	defer insp.Close()
	info, err := insp.GetTaskInfo(schema.QueueRun, taskID)
	if err != nil {
		t.Fatalf("the interrupted task is gone from the queue: %v", err)
	}
	if info.State != asynq.TaskStatePending && info.State != asynq.TaskStateRetry {
		t.Fatalf("interrupted task is %v, want handed back (pending or retry)", info.State)
	}
	if n, _ := db.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{}); n != 0 {
		t.Fatalf("an interrupted run stored %d files", n)
	}

	startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", t.TempDir(), "--name", "hb-2")
	waitUntil(t, "the handed-back run to succeed", 60*time.Second, func() bool {
		return runs.FindOne(ctx, bson.M{"_id": runID}).Decode(&rec) == nil && rec.State == schema.RunSucceeded
	})
	// The handed-back attempt does not count: draining a worker must not
	// use up a run's retries.
	if rec.Worker != "hb-2" || rec.Attempts != 1 || len(rec.Files) != 2 {
		t.Fatalf("record %+v", rec)
	}
	if n, _ := db.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{}); n != 2 {
		t.Fatalf("%d result files stored, want 2 (.sca and .vec once)", n)
	}
}
