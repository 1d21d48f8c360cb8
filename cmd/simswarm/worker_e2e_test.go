package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/test/testproc"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// copyAloha copies the example model's sources (not a build of it) into dir.
func copyAloha(t *testing.T, dir string) {
	t.Helper()
	srcs, _ := filepath.Glob("../../examples/aloha/*.[ch]")
	for _, f := range append(srcs, "../../examples/aloha/Makefile", "../../examples/aloha/omnetpp.ini") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func alohaManifest(t *testing.T, dir, name, config, runs string) string {
	t.Helper()
	// The model lives in its own directory: manifests and pulled results
	// beside it must not change the source archive.
	if err := os.MkdirAll(filepath.Join(dir, "model"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyAloha(t, filepath.Join(dir, "model"))
	p := filepath.Join(dir, name+".yaml")
	m := fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: %s
spec:
  source:
    path: model
  build:
    command: ["make"]
    artifacts: ["aloha", "omnetpp.ini"]
  simulation:
    program: ["./aloha"]
    config: %s
    runs: %q
  results: ["results/*.sca", "results/*.vec"]
  timeout: 2m
`, name, config, runs)
	if err := os.WriteFile(p, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startDistccd runs a real distccd on loopback and returns its host spec and
// log file.
func startDistccd(t *testing.T) (string, string) {
	t.Helper()
	bin, err := exec.LookPath("distccd")
	if err != nil {
		t.Fatalf("distccd is needed (Debian package distcc; make deps installs it): %v", err)
	}
	addr := freeport.Addr(t)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	// distccd drops root privileges, so it logs to stderr, which we own.
	logFile := filepath.Join(t.TempDir(), "distccd.log")
	lf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--daemon", "--no-detach", "--allow", "127.0.0.1", "--listen", "127.0.0.1",
		"--port", port, "--log-stderr", "--log-level", "info", "--jobs", "2")
	cmd.Stderr = lf
	// distccd forks its workers: stop the whole group, not just the leader.
	testproc.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testproc.Stop(cmd); lf.Close() })
	return "127.0.0.1:" + port, logFile
}

func startWorkers(t *testing.T, redisURL, mongoURI string, runners int, extra ...string) []*proc {
	t.Helper()
	var ps []*proc
	ps = append(ps, startProc(t, nil, append([]string{"worker", "--role", "build", "--redis", redisURL, "--mongo", mongoURI,
		"--cache", t.TempDir(), "--name", "builder", "-v"}, extra...)...))
	for i := range runners {
		ps = append(ps, startProc(t, nil, "worker", "--role", "run", "--redis", redisURL, "--mongo", mongoURI,
			"--cache", t.TempDir(), "--name", fmt.Sprintf("runner-%d", i), "--shutdown-grace", "1s"))
	}
	return ps
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func names(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestAlohaOnWorkersEqualsLocalRun applies the ALOHA campaign to a
// controller with one builder (compiling through a real distccd) and three
// runners, pulls the results and compares them with what `simswarm run`
// produces on this machine for the same runs: the same files, byte for byte.
func TestAlohaOnWorkersEqualsLocalRun(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	hosts, distccLog := startDistccd(t)
	startWorkers(t, rs.URL(), mongoURI, 3, "--distcc-hosts", hosts)

	dir := t.TempDir()
	manifest := alohaManifest(t, dir, "aloha", "PureAloha", "0..11")
	mustCLI(t, "apply", "-f", manifest)
	if out, err := cli(t, "wait", "aloha", "--timeout", "180s"); err != nil {
		t.Fatalf("wait: %v\n%s", err, out)
	}
	pullEqualsLocalRun(t, "aloha", manifest, filepath.Join(dir, "pulled"), 24)

	// The build went through distccd, and results are stored once each.
	logData, _ := os.ReadFile(distccLog)
	if n := strings.Count(string(logData), "COMPILE_OK"); n < 5 {
		t.Fatalf("distccd served %d compile jobs, want the model's 5 sources:\n%s", n, tail(string(logData), 2000))
	}
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	if n, _ := st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{}); n != 24 {
		t.Fatalf("%d result files in GridFS, want 24", n)
	}

	// The same source again is a build cache hit: no new build record.
	manifest2 := strings.Replace(string(must(os.ReadFile(manifest))), "name: aloha", "name: aloha-again", 1)
	os.WriteFile(filepath.Join(dir, "again.yaml"), []byte(strings.Replace(manifest2, `"0..11"`, `"0..1"`, 1)), 0o644)
	before := strings.Count(string(must(os.ReadFile(distccLog))), "COMPILE_OK")
	mustCLI(t, "apply", "-f", filepath.Join(dir, "again.yaml"))
	if out, err := cli(t, "wait", "aloha-again", "--timeout", "120s"); err != nil {
		t.Fatalf("wait: %v\n%s", err, out)
	}
	if after := strings.Count(string(must(os.ReadFile(distccLog))), "COMPILE_OK"); after != before {
		t.Fatalf("second campaign on the same source compiled again (%d -> %d jobs)", before, after)
	}
	if n, _ := st.DB.Collection(schema.CollBuilds).CountDocuments(ctx, bson.M{}); n != 1 {
		t.Fatalf("%d build records, want 1", n)
	}
}

// pullEqualsLocalRun pulls campaign's results into dir and checks that they
// are the files `simswarm run` of manifest produces on this machine, byte
// for byte, and that there are want of them.
func pullEqualsLocalRun(t *testing.T, campaign, manifest, dir string, want int) {
	t.Helper()
	mustCLI(t, "results", "pull", campaign, "-o", dir)
	local := filepath.Join(t.TempDir(), "local")
	mustCLI(t, "run", "-f", manifest, "--results", local)
	got, exp := readDir(t, dir), readDir(t, local)
	if len(exp) != want || strings.Join(names(got), "\n") != strings.Join(names(exp), "\n") {
		t.Fatalf("pulled files\n%q\nlocal files (want %d)\n%q", names(got), want, names(exp))
	}
	for name, w := range exp {
		if !bytes.Equal(got[name], w) {
			t.Errorf("%s differs between the distributed and the local run", name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// buildFakesim builds the contract-honouring fixture simulation.
func buildFakesim(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fakesim")
	cmd := exec.Command("go", "build", "-o", bin, "../../test/fixtures/fakesim")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fakesim: %v\n%s", err, out)
	}
	return bin
}

// TestKilledRunnerRunIsRedelivered SIGKILLs a runner while it runs a
// simulation: the queue's lease redelivers the run to another runner and
// every run's results are stored exactly once.
func TestKilledRunnerRunIsRedelivered(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the queue's lease to expire (about a minute)")
	}
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)

	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	os.MkdirAll(model, 0o755)
	os.WriteFile(filepath.Join(model, "omnetpp.ini"), []byte("[General]\n**.mode = ${mode=slow,slow,slow,slow}\n"), 0o644)
	fakesim := buildFakesim(t)
	manifest := filepath.Join(dir, "slow.yaml")
	os.WriteFile(manifest, []byte(fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: slow
spec:
  source:
    path: model
  build:
    command: ["cp", %q, "fakesim"]
  simulation:
    program: ["./fakesim"]
    env:
      FAKESIM_SLOW: 4s
  timeout: 1m
`, fakesim)), 0o644)

	ps := startWorkers(t, rs.URL(), mongoURI, 2)
	mustCLI(t, "apply", "-f", manifest)
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	// Wait until runner-0 is running a simulation, then kill it.
	deadline := time.Now().Add(60 * time.Second)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	for {
		// Run records are not written until the outcome: the heartbeat
		// says what a worker runs.
		var hb heartbeat.Beat
		if v, err := rdb.Get(ctx, heartbeat.Key("runner-0")).Result(); err == nil && json.Unmarshal([]byte(v), &hb) == nil && hb.Task != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("runner-0 never started a run")
		}
		time.Sleep(50 * time.Millisecond)
	}
	victim := ps[1]
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// asynq's recoverer takes back a task whose lease (30s, extended while
	// its worker lives) expired more than 30s ago; a worker starting up
	// checks at once. The live runner keeps its own leases fresh, so the
	// first lease that old is the dead runner's: start a fresh worker then.
	// The live runner's own recoverer (once a minute) may get there first
	// and move the task to the retry set.
	leases := "asynq:{" + schema.QueueRun + "}:lease"
	retries := "asynq:{" + schema.QueueRun + "}:retry"
	deadline = time.Now().Add(90 * time.Second)
	for {
		cutoff := strconv.FormatInt(time.Now().Add(-31*time.Second).Unix(), 10)
		if n, _ := rdb.ZCount(ctx, leases, "-inf", cutoff).Result(); n > 0 {
			break
		}
		if n, _ := rdb.ZCard(ctx, retries).Result(); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed runner's lease never expired")
		}
		time.Sleep(200 * time.Millisecond)
	}
	startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", t.TempDir(), "--name", "runner-late")
	if out, err := cli(t, "wait", "slow", "--timeout", "120s"); err != nil {
		t.Fatalf("wait: %v\n%s", err, out)
	}
	t.Logf("campaign finished %s after the runner was killed", time.Since(killed).Round(time.Second))
	c, err := st.Get(ctx, "slow")
	if err != nil || c.Status.Runs.Succeeded != 4 {
		t.Fatalf("status %+v %v", c.Status.Runs, err)
	}
	var recs []schema.RunRecord
	cur, err := st.DB.Collection(schema.CollRuns).Find(ctx, bson.M{"campaign": "slow"})
	if err != nil || cur.All(ctx, &recs) != nil {
		t.Fatal(err)
	}
	redone := 0
	for _, r := range recs {
		if len(r.Files) != 3 { // .sca, .vec and the .out of its redirected output
			t.Errorf("run %d has %d files", r.Run, len(r.Files))
		}
		if r.Attempts > 1 {
			redone++
		}
	}
	if redone == 0 {
		t.Error("no run shows a second attempt: the killed runner's run was not redelivered")
	}
	if n, _ := st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{}); n != 12 {
		t.Fatalf("%d result files stored, want 12 (4 runs x .sca+.vec+.out, once each)", n)
	}
}
