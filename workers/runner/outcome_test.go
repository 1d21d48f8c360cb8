package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
)

// scriptKey is the artifact of setupScript.
const scriptKey = "5c5c5c5c22cc33dd44ee55ff66778899aabbccddeeff00112233445566778899"

// setupScript stores an artifact whose simulation is the shell script sim
// (it gets opp_run's arguments; $RESULTS is its result directory, results) and
// records its build.
func setupScript(t *testing.T, db *mongo.Database, sim string) {
	t.Helper()
	src := t.TempDir()
	script := "#!/bin/sh\nRESULTS=results\nmkdir -p \"$RESULTS\"\n" + sim + "\n"
	if err := os.WriteFile(filepath.Join(src, "sim.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	storeArtifact(t, db, src, scriptKey)
}

func scriptTask(t *testing.T, db *mongo.Database, run int) *asynq.Task {
	t.Helper()
	rec := schema.RunRecord{ID: schema.RunID("c", "u1", run), Campaign: "c", UID: "u1", Run: run, State: schema.RunPending}
	if _, err := db.Collection(schema.CollRuns).InsertOne(context.Background(), rec); err != nil && !mongo.IsDuplicateKeyError(err) {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "u1", Run: run, ArtifactKey: scriptKey,
		Simulation: api.SimulationSpec{Program: []string{"./sim.sh"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: "."},
		Results:    []string{"results/*.sca"}, Timeout: api.Duration{Duration: time.Minute}})
	return asynq.NewTask(schema.TypeRun, payload)
}

// TestRefusedResultNamesAreRecordedFailures: a result file name the runner
// refuses (a backslash, or the .simswarm prefix of its own bookkeeping)
// ends the attempt as a recorded failure naming the file, counted as an
// attempt, with nothing stored, and is no error for the queue (which
// would otherwise drop or redeliver the task without an outcome).
func TestRefusedResultNamesAreRecordedFailures(t *testing.T) {
	db := setup(t, "[General]\n")
	setupScript(t, db, `case " $* " in
*" -r 0 "*) echo x > "$RESULTS/a\\b.sca";;
*) echo x > "$RESULTS/.simswarm-complete.sca";;
esac`)
	ctx := context.Background()
	for run, name := range []string{`a\b.sca`, ".simswarm-complete.sca"} {
		if err := handler(t, db, t.TempDir()).ProcessTask(ctx, scriptTask(t, db, run)); err != nil {
			t.Fatalf("run %d: a refused result name is an outcome, not a queue error: %v", run, err)
		}
		r := record(t, db, run)
		if r.State != schema.RunFailed || r.Attempts != 1 || !strings.Contains(r.Message, fmt.Sprintf("%q", name)) || r.FinishedAt == nil {
			t.Errorf("run %d: record %+v, want Failed after 1 attempt with a message naming %q", run, r, name)
		}
	}
	if n, _ := db.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{}); n != 0 {
		t.Fatalf("refused runs left %d result files", n)
	}
}

// TestUnusableArtifactIsARecordedFailure: an artifact that cannot be used
// (its digest does not match the build record, or it is gone) fails the
// attempt on the record, with the reason, instead of only in the queue.
func TestUnusableArtifactIsARecordedFailure(t *testing.T) {
	db := setup(t, "[General]\n")
	ctx := context.Background()
	db.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": key}, bson.M{"$set": bson.M{"sha256": "beef"}})
	if err := handler(t, db, t.TempDir()).ProcessTask(ctx, task(t, db, 0)); err != nil {
		t.Fatalf("an unusable artifact is an outcome, not a queue error: %v", err)
	}
	if r := record(t, db, 0); r.State != schema.RunFailed || r.Attempts != 1 || !strings.Contains(r.Message, "does not match") {
		t.Errorf("record %+v, want Failed with the digest mismatch", r)
	}
	db.Collection(schema.CollBuilds).DeleteOne(ctx, bson.M{"_id": key})
	if err := handler(t, db, t.TempDir()).ProcessTask(ctx, task(t, db, 1)); err != nil {
		t.Fatalf("a missing build record is an outcome, not a queue error: %v", err)
	}
	if r := record(t, db, 1); r.State != schema.RunFailed || !strings.Contains(r.Message, key[:12]) {
		t.Errorf("record %+v, want Failed naming the build", r)
	}
}

// TestLastDeliveryAndPanicsAreRecorded runs the handler under a real asynq
// server: an error the queue retries (here an unusable work directory)
// becomes the run's recorded failure on the task's last delivery, and a
// panic is a recorded failure at once; neither task is left archived in
// the queue without an outcome.
func TestLastDeliveryAndPanicsAreRecorded(t *testing.T) {
	db := setup(t, "[General]\n")
	rs := testdb.StartRedis(t)
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	h := handler(t, db, t.TempDir())
	h.WorkDir = notDir
	panicky := &Handler{DB: db, WorkDir: t.TempDir(), Worker: "w"} // no Cache: a nil dereference
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeRun, func(ctx context.Context, tk *asynq.Task) error {
		var rt schema.RunTask
		json.Unmarshal(tk.Payload(), &rt)
		if rt.Run == 1 {
			return panicky.ProcessTask(ctx, tk)
		}
		return h.ProcessTask(ctx, tk)
	})
	srv := asynq.NewServerFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}), asynq.Config{
		Concurrency: 2, Queues: map[string]int{schema.QueueRun: 1}, LogLevel: asynq.FatalLevel, DelayedTaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClientFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}))
	defer client.Close()
	for run := range 2 {
		if _, err := client.Enqueue(task(t, db, run), asynq.Queue(schema.QueueRun), asynq.MaxRetry(2),
			asynq.TaskID(schema.RunTaskID("c", "u1", run, 0))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for run, want := range []string{"not a directory", "panic"} {
		for {
			r := record(t, db, run)
			if r.State == schema.RunFailed {
				if !strings.Contains(r.Message, want) || r.Attempts < 1 {
					t.Errorf("run %d: record %+v, want Failed with %q", run, r, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: no outcome recorded (record %+v)", run, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	insp := asynq.NewInspectorFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}))
	defer insp.Close()
	time.Sleep(300 * time.Millisecond)
	if dead, _ := insp.ListArchivedTasks(schema.QueueRun); len(dead) != 0 {
		t.Fatalf("%d tasks archived without an outcome: %v", len(dead), dead[0].LastErr)
	}
}

// TestCorruptArtifactIsARecordedFailure: an artifact whose bytes are the
// builder's (the digest matches) but do not unpack fails the attempt on
// the record at once: another delivery would unpack the same bytes.
func TestCorruptArtifactIsARecordedFailure(t *testing.T) {
	db := setup(t, "[General]\n")
	ctx := context.Background()
	garbage := []byte("this is not a tar.gz")
	sum := sha256.Sum256(garbage)
	if _, err := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts)).
		UploadFromStream(ctx, schema.ArtifactName(scriptKey), bytes.NewReader(garbage)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(schema.CollBuilds).InsertOne(ctx, schema.BuildRecord{Key: scriptKey, State: schema.BuildSucceeded,
		SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	if err := handler(t, db, t.TempDir()).ProcessTask(ctx, scriptTask(t, db, 0)); err != nil {
		t.Fatalf("an artifact that does not unpack is an outcome, not a queue error: %v", err)
	}
	if r := record(t, db, 0); r.State != schema.RunFailed || r.Attempts != 1 || !strings.Contains(r.Message, "unpack artifact") {
		t.Errorf("record %+v, want Failed with the unpack error", r)
	}
}

// TestStaleFailureNeverOverwritesSucceeded: a paused runner that resumes
// after its run was redone elsewhere (its simulation then counts as timed
// out) wrote its failure over the Succeeded record, and only the
// completion set it back a moment later. The failure's write is
// conditional: a Succeeded record stays as it is, even without a
// completion to settle from.
func TestStaleFailureNeverOverwritesSucceeded(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=crash}\n")
	ctx := context.Background()
	tk := task(t, db, 0)
	id := schema.RunID("c", "u1", 0)
	win := []schema.ResultFile{{Name: "winner.sca", Size: 1, SHA256: "ab", FileID: "f1"}}
	if _, err := db.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"state": schema.RunSucceeded, "attempts": 2, "files": win, "worker": "w0"}}); err != nil {
		t.Fatal(err)
	}
	if err := handler(t, db, t.TempDir()).ProcessTask(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if r := record(t, db, 0); r.State != schema.RunSucceeded || r.Worker != "w0" || len(r.Files) != 1 || r.Message != "" {
		t.Fatalf("a stale attempt's failure wrote over the Succeeded record: %+v", r)
	}
}
