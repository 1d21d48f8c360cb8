package main

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/sweep"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/runlist"
	"github.com/simswarm/simswarm/workers/tarball"
)

// contractWorker consumes build and run tasks the way the CORE contract
// says workers do (records and GridFS), without building or simulating:
// it lets the controller's side of the flow be tested through the real
// queue and store. Run 1's first attempt fails, to exercise retries.
type contractWorker struct {
	st      *store.Store
	noFail  bool // no injected failure of run 1
	started atomic.Int64
	hold    chan struct{} // if set, run handlers wait on it
}

func (w *contractWorker) build(ctx context.Context, t *asynq.Task) error {
	var bt schema.BuildTask
	if err := json.Unmarshal(t.Payload(), &bt); err != nil {
		return err
	}
	if bt.Simulation != nil {
		if err := w.listRuns(ctx, bt); err != nil {
			return err
		}
	}
	_, err := w.st.DB.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": bt.Key, "state": bson.M{"$ne": schema.BuildSucceeded}},
		bson.M{"$set": bson.M{"state": schema.BuildSucceeded, "worker": "contract", "updatedAt": time.Now()}})
	return err
}

// listRuns stands in for the built program's -q runs: the runs api/sweep
// reads from the ini of the uploaded source, saved as the build's run list.
func (w *contractWorker) listRuns(ctx context.Context, bt schema.BuildTask) error {
	q := runlist.QueryOf(*bt.Simulation)
	id := runlist.ID(bt.Key, q)
	if rec, err := runlist.Get(ctx, w.st.DB, id); err != nil || rec != nil {
		return err
	}
	st, err := w.st.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketSources)).OpenDownloadStreamByName(ctx, schema.SourceName(bt.Source.Archive))
	if err != nil {
		return err
	}
	defer st.Close()
	dir, err := os.MkdirTemp("", "contract-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := tarball.Extract(st, dir, tarball.DefaultLimit); err != nil {
		return err
	}
	ini, err := sweep.ParseFile(filepath.Join(dir, q.WorkingDir, q.IniFile))
	if err != nil {
		return runlist.SaveFailure(ctx, w.st.DB, id, bt.Key, err.Error())
	}
	runs, err := ini.Runs(q.Config)
	if err != nil {
		return runlist.SaveFailure(ctx, w.st.DB, id, bt.Key, err.Error())
	}
	var list []oppcli.RunInfo
	for _, r := range runs {
		list = append(list, oppcli.RunInfo{Number: r.Number, Vars: strings.TrimPrefix(r.String(), fmt.Sprintf("Run %d: ", r.Number))})
	}
	return runlist.Save(ctx, w.st.DB, id, bt.Key, list)
}

func (w *contractWorker) run(ctx context.Context, t *asynq.Task) error {
	var rt schema.RunTask
	if err := json.Unmarshal(t.Payload(), &rt); err != nil {
		return err
	}
	w.started.Add(1)
	if w.hold != nil {
		select {
		case <-w.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	id := store.RunID(rt.Campaign, rt.UID, rt.Run)
	runs := w.st.DB.Collection(schema.CollRuns)
	if _, err := runs.UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}},
		bson.M{"$set": bson.M{"state": schema.RunRunning, "worker": "contract", "updatedAt": time.Now()}, "$inc": bson.M{"attempts": 1}}); err != nil {
		return err
	}
	if rt.Run == 1 && rt.Attempt == 0 && !w.noFail {
		_, err := runs.UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}},
			bson.M{"$set": bson.M{"state": schema.RunFailed, "exitCode": 1, "stderrTail": "<!> Error: boom\n", "updatedAt": time.Now()}})
		return err
	}
	name := fmt.Sprintf("%s-#%d.sca", rt.Simulation.Config, rt.Run)
	data := []byte(fmt.Sprintf("version 3\nrun %s-%d\nscalar . x %d\n", rt.Simulation.Config, rt.Run, rt.Run*rt.Run))
	b := w.st.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	fid, err := b.UploadFromStream(ctx, fmt.Sprintf("%s/%s/%d/%s", rt.Campaign, rt.UID, rt.Run, name), bytes.NewReader(data))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	files := []schema.ResultFile{{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), FileID: fid}}
	res, err := runs.UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}},
		bson.M{"$set": bson.M{"state": schema.RunSucceeded, "files": files, "exitCode": 0, "updatedAt": time.Now()}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 { // succeeded elsewhere: store results once
		return b.Delete(ctx, fid)
	}
	return nil
}

func startContractWorker(t *testing.T, addr string, st *store.Store, w *contractWorker) *asynq.Server {
	t.Helper()
	// Its own client, closed only after the server stopped (asynq's
	// subscriber does not survive its connection closing under it).
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 3,
		Queues: map[string]int{schema.QueueBuild: 1, schema.QueueRun: 1}, Logger: quietAsynq{},
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond }})
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeBuild, w.build)
	mux.HandleFunc(schema.TypeRun, w.run)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

type quietAsynq struct{}

func (quietAsynq) Debug(...any) {}
func (quietAsynq) Info(...any)  {}
func (quietAsynq) Warn(...any)  {}
func (quietAsynq) Error(...any) {}
func (quietAsynq) Fatal(...any) {}

func flowManifest(t *testing.T, dir, name, runs string) string {
	t.Helper()
	p := writeManifest(t, dir, name)
	b, _ := os.ReadFile(p)
	m := strings.Replace(string(b), "    runs: \"0..5\"\n", "    runs: \""+runs+"\"\n", 1)
	if err := os.WriteFile(p, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCampaignFlowThroughQueueRetriesAndRedisWipe applies a campaign with
// the CLI to a controller process, lets a contract worker consume the
// queue, wipes Redis while runs are in flight, and checks that `wait`
// succeeds and `results pull` brings every run's result once.
func TestCampaignFlowThroughQueueRetriesAndRedisWipe(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	tok := writeToken(t)
	p := startControllerProc(t, rs.URL(), mongoURI, tok)
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()

	w := &contractWorker{st: st, hold: make(chan struct{})}
	startContractWorker(t, rs.Addr, st, w)
	dir := t.TempDir()
	mustCLI(t, "apply", "-f", flowManifest(t, dir, "flow", "0..5"))

	// Runs are in flight (held by the worker): wipe Redis.
	deadline := time.Now().Add(20 * time.Second)
	for w.started.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d runs started", w.started.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	close(w.hold)

	out, err := cli(t, "wait", "flow", "--timeout", "60s", "-q")
	if err != nil {
		t.Fatalf("wait: %v (%s)", err, out)
	}
	c, _ := st.Get(ctx, "flow")
	if c.Status.Runs.Succeeded != 6 || c.Status.CompletionTime == nil {
		t.Fatalf("status: %+v", c.Status)
	}
	r1, err := st.GetRun(ctx, "flow", c.Metadata.UID, 1)
	if err != nil || r1.Attempts < 2 {
		t.Fatalf("run 1 not retried after its failure: %+v %v", r1, err)
	}
	res := filepath.Join(dir, "results")
	mustCLI(t, "results", "pull", "flow", "-o", res)
	entries, _ := os.ReadDir(res)
	if len(entries) != 6 {
		t.Fatalf("%d result files pulled, want 6", len(entries))
	}
	for i := 0; i < 6; i++ {
		b, err := os.ReadFile(filepath.Join(res, fmt.Sprintf("PureAloha-#%d.sca", i)))
		if err != nil || !strings.Contains(string(b), fmt.Sprintf("scalar . x %d\n", i*i)) {
			t.Fatalf("result of run %d: %q %v", i, b, err)
		}
	}
	// Every run's result stored exactly once, even those redone after the wipe.
	n, err := st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{})
	if err != nil || n != 6 {
		t.Fatalf("%d result files stored, want 6 (%v)", n, err)
	}
	if out := mustCLI(t, "logs", "flow", "--run", "1"); !strings.Contains(out, "Succeeded") {
		t.Fatalf("logs: %q", out)
	}
}

// TestCampaignSurvivesControllerKillAndMongoRestart SIGKILLs the controller
// and restarts the MongoDB-wire server while runs are in flight; a new
// controller finishes the campaign.
func TestCampaignSurvivesControllerKillAndMongoRestart(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongo := testdb.StartMongoServer(t)
	tok := writeToken(t)
	p := startControllerProc(t, rs.URL(), mongo.URI, tok)
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	ctx := context.Background()
	st, err := store.Open(ctx, mongo.URI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	w := &contractWorker{st: st, hold: make(chan struct{})}
	startContractWorker(t, rs.Addr, st, w)
	mustCLI(t, "apply", "-f", flowManifest(t, t.TempDir(), "survivor", "0..7"))
	deadline := time.Now().Add(20 * time.Second)
	for w.started.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d runs started", w.started.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	mongo.Stop()
	close(w.hold) // the in-flight runs fail to record (Mongo is down): asynq retries them
	time.Sleep(500 * time.Millisecond)
	mongo.Start(t)
	p2 := startControllerProc(t, rs.URL(), mongo.URI, tok)
	t.Setenv("SIMSWARM_SERVER", "http://"+p2.addr)
	if out, err := cli(t, "wait", "survivor", "--timeout", "90s", "-q"); err != nil {
		t.Fatalf("wait after controller kill and mongo restart: %v (%s)", err, out)
	}
	n, err := st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{})
	if err != nil || n != 8 {
		t.Fatalf("%d result files stored, want 8 (%v)", n, err)
	}
}

// TestRunallWithServerSubmitsWaitsAndPulls is the original system's client
// experience: runall --server -- PROGRAM ARGS from a model directory.
func TestRunallWithServerSubmitsWaitsAndPulls(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_TOKEN", testToken)
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	startContractWorker(t, rs.Addr, st, &contractWorker{st: st})
	model := t.TempDir()
	os.WriteFile(filepath.Join(model, "aloha"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(model, "omnetpp.ini"), []byte("[Config PureAloha]\n**.n = ${n=1..4}\n"), 0o644)
	t.Chdir(model)
	out, err := cli(t, "runall", "--server", "http://"+p.addr, "--retries", "1", "--", "./aloha", "-c", "PureAloha")
	if err != nil {
		t.Fatalf("runall --server: %v (%s)", err, out)
	}
	if !strings.Contains(out, "4/4 runs succeeded") {
		t.Fatalf("runall output: %q", out)
	}
	for i := 0; i < 4; i++ {
		if _, err := os.Stat(filepath.Join(model, "results", fmt.Sprintf("PureAloha-#%d.sca", i))); err != nil {
			t.Fatalf("result of run %d not pulled: %v", i, err)
		}
	}
	// Again: the same campaign, nothing new to download.
	out, err = cli(t, "runall", "--server", "http://"+p.addr, "--retries", "1", "--", "./aloha", "-c", "PureAloha")
	if err != nil || !strings.Contains(out, "0 result files downloaded, 4 already present") {
		t.Fatalf("second runall: %v %q", err, out)
	}
	// -c written as one word, as opp_run takes it: the same campaign, not
	// General's runs.
	out, err = cli(t, "runall", "--server", "http://"+p.addr, "--retries", "1", "--", "./aloha", "-cPureAloha")
	if err != nil || !strings.Contains(out, "4/4 runs succeeded") || !strings.Contains(out, "0 result files downloaded, 4 already present") {
		t.Fatalf("runall -cPureAloha: %v %q", err, out)
	}
	// What a campaign cannot honour is refused, naming it, before anything is submitted.
	out, err = cli(t, "runall", "--server", "http://"+p.addr, "--", "./aloha", "-c", "PureAloha", "omnetpp.ini", "extra.ini")
	if err == nil || !strings.Contains(out+err.Error(), "extra.ini") {
		t.Fatalf("runall with two ini files: %v %q", err, out)
	}
}
