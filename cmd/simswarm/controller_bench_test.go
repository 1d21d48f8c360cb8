package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/runlist"
)

// BenchmarkApply100kCampaign applies a 100,000-run campaign (its build a
// cache hit) to a controller process and reports the time from the apply
// request to the first run task in the queue, and the controller's
// resident memory once all run records exist.
func BenchmarkApply100kCampaign(b *testing.B) {
	for i := 0; i < b.N; i++ {
		bench100k(b)
	}
}

func bench100k(b *testing.B) {
	rs := testdb.StartRedis(b)
	mongoURI := testdb.StartMongo(b)
	tok := writeToken(b)
	p := startControllerProc(b, rs.URL(), mongoURI, tok)
	ctx := context.Background()
	c := client.New("http://"+p.addr, testToken)
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	insp := asynq.NewInspectorFromRedisClient(rdb)

	// Warm the build cache with a small campaign of the same source.
	warm, err := c.Apply(ctx, gitCampaign("warm", "0..0"))
	if err != nil {
		b.Fatal(err)
	}
	var key string
	for deadline := time.Now().Add(20 * time.Second); key == ""; time.Sleep(20 * time.Millisecond) {
		cp, err := c.Get(ctx, warm.Metadata.Name)
		if err == nil {
			key = cp.Status.Build.Key
		}
		if time.Now().After(deadline) {
			b.Fatal("warm campaign not reconciled")
		}
	}
	// The program lists the config's 100,000 runs (the builder's run list).
	list := make([]oppcli.RunInfo, 100_000)
	for i := range list {
		list[i].Number = i
	}
	sim := gitCampaign("big", "0..99999").Spec.Simulation
	if err := runlist.Save(ctx, st.DB, runlist.ID(key, runlist.QueryOf(sim)), key, list); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": key}, bson.M{"$set": bson.M{"state": schema.BuildSucceeded}}); err != nil {
		b.Fatal(err)
	}
	if err := c.Delete(ctx, "warm"); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	start := time.Now()
	if _, err := c.Apply(ctx, gitCampaign("big", "0..99999")); err != nil {
		b.Fatal(err)
	}
	var first time.Duration
	for deadline := time.Now().Add(60 * time.Second); first == 0; time.Sleep(5 * time.Millisecond) {
		_ = rdb.SAdd(ctx, "asynq:queues", schema.QueueRun).Err()
		tasks, _ := insp.ListPendingTasks(schema.QueueRun, asynq.PageSize(1))
		if len(tasks) > 0 && strings.HasPrefix(tasks[0].ID, "run:big:") {
			first = time.Since(start)
		}
		if time.Now().After(deadline) {
			b.Fatal("no run dispatched within 60s")
		}
	}
	b.StopTimer()
	// Let the controller create records for a while, then read its memory
	// (FerretDB's SQLite backend scans a collection per query, so creating
	// all 100,000 records takes minutes there; a real MongoDB uses the
	// indexes).
	runs := st.DB.Collection(schema.CollRuns)
	time.Sleep(30 * time.Second)
	n, _ := runs.EstimatedDocumentCount(ctx)
	b.ReportMetric(float64(n), "records-after-30s")
	pending, _ := insp.GetQueueInfo(schema.QueueRun)
	rss, hwm := rssKB(p.cmd.Process.Pid)
	b.ReportMetric(float64(first.Milliseconds()), "ms-to-first-dispatch")
	b.ReportMetric(float64(rss)/1024, "MB-rss")
	b.ReportMetric(float64(hwm)/1024, "MB-peak-rss")
	if pending != nil {
		b.ReportMetric(float64(pending.Pending), "tasks-queued")
	}
}

// cpuMS is a process's user+system CPU time in milliseconds.
func cpuMS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) * 1000 / 100 // USER_HZ is 100 on Linux
}

// BenchmarkControllerCPUPerRun runs a 500-run campaign through a
// controller process and the queue, with workers that follow the record
// contract but execute nothing, and reports the controller's CPU time per
// run and the end-to-end rate (bounded here by the MongoDB-wire server).
func BenchmarkControllerCPUPerRun(b *testing.B) {
	const runs = 500
	rs := testdb.StartRedis(b)
	mongoURI := testdb.StartMongo(b)
	p := startControllerProc(b, rs.URL(), mongoURI, writeToken(b))
	ctx := context.Background()
	c := client.New("http://"+p.addr, testToken)
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	w := &contractWorker{st: st, noFail: true}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 16,
		Queues: map[string]int{schema.QueueBuild: 1, schema.QueueRun: 1}, Logger: quietAsynq{}})
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeBuild, w.build)
	mux.HandleFunc(schema.TypeRun, w.run)
	if err := srv.Start(mux); err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	cpu0 := cpuMS(p.cmd.Process.Pid)
	start := time.Now()
	if _, err := c.Apply(ctx, gitCampaign("cpu", fmt.Sprintf("0..%d", runs-1))); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		cp, err := c.Get(ctx, "cpu")
		if err == nil && cp.Status.Phase == "Succeeded" {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("campaign not done: %+v", cp.Status)
		}
	}
	took := time.Since(start)
	cpu := cpuMS(p.cmd.Process.Pid) - cpu0
	b.ReportMetric(cpu/runs, "controller-cpu-ms/run")
	b.ReportMetric(runs/took.Seconds(), "runs/s")
}
