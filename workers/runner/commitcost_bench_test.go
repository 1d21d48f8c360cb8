package runner

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testproc"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// BenchmarkCommitCommands times each command of 16-run group commits
// separately, in CPU of the FerretDB process (ferretapp -id-index, as the
// throughput bench and the scale harness run it: its threads' schedstat
// before and after the command) and in wall time, per run. Commits are
// written one after another, so a command's CPU is its own. The runs
// collection holds $SIMSWARM_BENCH_RECORDS records (default 20,000) as a
// campaign in progress would; each run stores one small .sca-sized file
// and an index document of 40 values.
//
//	go test -run '^$' -bench CommitCommands -benchtime 50x ./workers/runner
func BenchmarkCommitCommands(b *testing.B) {
	pid, uri := startFerretApp(b)
	ctx := context.Background()
	type started struct {
		name      string
		cpu, wall int64
	}
	var (
		mu    sync.Mutex
		start = map[int64]started{}
		cpu   = map[string]time.Duration{}
		wall  = map[string]time.Duration{}
		count = map[string]int{}
		on    bool
	)
	// A command is named by its collection too (insert chunks, files, ...).
	name := func(cmd bson.Raw, n string) string {
		if s, ok := cmd.Lookup(n).StringValueOK(); ok {
			return n + " " + s
		}
		return n
	}
	mon := &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			mu.Lock()
			defer mu.Unlock()
			if on {
				start[e.RequestID] = started{name(e.Command, e.CommandName), procCPU(b, pid), time.Now().UnixNano()}
			}
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			mu.Lock()
			defer mu.Unlock()
			s, ok := start[e.RequestID]
			if !ok {
				return
			}
			delete(start, e.RequestID)
			cpu[s.name] += time.Duration(procCPU(b, pid) - s.cpu)
			wall[s.name] += time.Duration(time.Now().UnixNano() - s.wall)
			count[s.name]++
		},
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetMonitor(mon))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := client.Database("simswarm")

	records := 20000
	if n, err := strconv.Atoi(os.Getenv("SIMSWARM_BENCH_RECORDS")); err == nil && n >= 0 {
		records = n
	}
	const per = 16
	total := records
	if need := per * b.N; need > total {
		total = need
	}
	docs := make([]any, 0, 5000)
	for i := 0; i < total; i++ {
		docs = append(docs, schema.RunRecord{ID: schema.RunID("c", "u", i), Campaign: "c", UID: "u", Run: i, State: schema.RunPending})
		if len(docs) == cap(docs) || i == total-1 {
			if _, err := db.Collection(schema.CollRuns).InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	// Each collection exists before timing (its table's creation is not
	// a commit's cost), and the _id indexes have been made.
	for _, c := range []string{schema.CollCompletions, schema.BucketResults + ".chunks", schema.BucketResults + ".files", resultindex.Collection} {
		if _, err := db.Collection(c).InsertOne(ctx, bson.M{"_id": "warm"}); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	data := []byte(strings.Repeat("scalar Aloha.host[0] x 1.5\n", 40))
	values := make([]resultindex.Value, 40)
	for i := range values {
		values[i] = resultindex.Value{Module: "Aloha.host", Name: fmt.Sprintf("s%d", i), Value: float64(i)}
	}
	mu.Lock()
	on = true
	mu.Unlock()
	b.ResetTimer()
	for n := range b.N {
		batch := make([]*commit, per)
		for k := range batch {
			run := n*per + k
			fid := bson.NewObjectID()
			batch[k] = &commit{
				chunks: []chunkDoc{{ID: bson.NewObjectID(), FilesID: fid, N: 0, Data: data}},
				files: []any{bson.M{"_id": fid, "length": len(data), "chunkSize": chunkSize, "uploadDate": time.Now(),
					"filename": schema.ResultName("c", "u", run, "r.sca")}},
				comp: &schema.Completion{ID: schema.RunID("c", "u", run), Campaign: "c", UID: "u", Attempt: 1, Worker: "w",
					Files:     []schema.ResultFile{{Name: "r.sca", FileID: fid, Size: int64(len(data))}},
					StartedAt: time.Now(), FinishedAt: time.Now(), DurationMS: 3},
			}
			batch[k].index = resultindex.New(resultindex.Run{Campaign: "c", UID: "u", Run: run, Attempt: 1})
			batch[k].index.Values = values
		}
		errs := make([]error, per)
		writeBatch(ctx, db, batch, errs)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	runs := float64(per * b.N)
	var keys []string
	for k := range cpu {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var tc, tw time.Duration
	for _, k := range keys {
		tc += cpu[k]
		tw += wall[k]
		unit := strings.NewReplacer(" ", "-", ".", "-").Replace(k)
		b.ReportMetric(float64(cpu[k].Microseconds())/runs, unit+"-cpu-µs/run")
		b.ReportMetric(float64(wall[k].Microseconds())/runs, unit+"-wall-µs/run")
		b.Logf("%-28s %4d commands  ferret CPU %7.0f µs/run  wall %7.0f µs/run", k, count[k],
			float64(cpu[k].Microseconds())/runs, float64(wall[k].Microseconds())/runs)
	}
	b.ReportMetric(float64(tc.Microseconds())/runs, "total-cpu-µs/run")
	b.ReportMetric(float64(tw.Microseconds())/runs, "total-wall-µs/run")
}

// procCPU is the CPU time (ns) of every thread of process pid so far.
func procCPU(tb testing.TB, pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	if len(tasks) == 0 {
		tb.Fatalf("no threads of process %d", pid)
	}
	return sum
}

// startFerretApp builds and starts ferretapp -id-index (the throughput
// bench's and scale harness's server) as a process of its own and returns
// its pid and URI.
func startFerretApp(tb testing.TB) (int, string) {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, "ferretapp")
	build := exec.Command("go", "build", "-o", bin, "github.com/simswarm/simswarm/test/dockerd/ferretapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build ferretapp: %v\n%s", err, out)
	}
	addr := freeport.Addr(tb)
	cmd := exec.Command(bin, "-id-index", filepath.Join(dir, "data"), addr)
	log, err := os.Create(filepath.Join(dir, "ferret.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	testproc.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { testproc.Stop(cmd) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("ferretapp on %s not listening: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd.Process.Pid, "mongodb://" + addr + "/simswarm"
}
