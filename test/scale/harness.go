package scale

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	_ "net/http/pprof" // SIMSWARM_SCALE_PPROF
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/sourcearchive"
	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/test/testproc"
)

// Options configures the servers of a harness.
type Options struct {
	// IDIndex gives FerretDB the _id index (ferretapp -id-index), as
	// MongoDB always has one; without it every lookup by _id scans.
	IDIndex bool
	// MongoDir, if set, is a directory to keep FerretDB's data under
	// (e.g. on tmpfs: SQLite syncs every write transaction to disk, where
	// MongoDB's journal commits in groups); default a test directory.
	MongoDir string
	// CacheDir, if set, is a directory to keep the simulated runners'
	// caches and work directories under (default: SIMSWARM_SCALE_CACHE_DIR,
	// else a test directory). The runners of a cluster each write to their
	// own node's disk; here they all share one, and on a loaded ext4 volume
	// creating a file costs about 0.5 ms of kernel CPU (against 0.04 ms on
	// tmpfs), which the harness would count as the runners' cost per run.
	CacheDir string
}

// Harness is one controller, one redis-server and one FerretDB, each a
// process of its own.
type Harness struct {
	RedisURL, MongoURI, Server, Token string
	// PIDs of the server processes, for their CPU and memory.
	ControllerPID, RedisPID, MongoPID int

	Client *client.Client
	dir    string
	// cache holds the runners' and the builder's caches (Options.CacheDir).
	cache  string
	log    *zap.Logger
	ctlLog string
	// ctlPprof is the controller's pprof listener (SIMSWARM_SCALE_PROFILE).
	ctlPprof string
	// uploaded is when Apply's upload of the model ended.
	uploaded time.Time
}

// controllerEnv carries the controller's configuration to the test
// binary started again as the controller (ControllerMain).
const controllerEnv = "SIMSWARM_SCALE_CONTROLLER"

type controllerConfig struct {
	Listen, RedisURL, MongoURI, Token, Log string
}

// ControllerMain runs the controller and exits when this process was
// started as one by Start; otherwise it returns at once. Call it first in
// TestMain.
func ControllerMain() {
	v := os.Getenv(controllerEnv)
	if v == "" {
		return
	}
	var c controllerConfig
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		fmt.Fprintln(os.Stderr, controllerEnv+":", err)
		os.Exit(2)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(zapcore.WarnLevel)
	if os.Getenv("SIMSWARM_SCALE_DEBUG") != "" {
		zc.Level = zap.NewAtomicLevelAt(zapcore.DebugLevel)
	}
	zc.OutputPaths, zc.ErrorOutputPaths = []string{c.Log}, []string{c.Log}
	log, err := zc.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if addr := os.Getenv("SIMSWARM_SCALE_PPROF"); addr != "" {
		// For finding the controller's costs: go tool pprof http://ADDR/debug/pprof/profile
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	err = manager.Run(signalContext(), manager.Config{Listen: c.Listen, RedisURL: c.RedisURL, MongoURI: c.MongoURI,
		Token: c.Token, Logger: log})
	_ = log.Sync()
	if err != nil {
		fmt.Fprintln(os.Stderr, "controller:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Start starts the servers; they stop when the test ends.
func Start(tb testing.TB, o Options) *Harness {
	tb.Helper()
	h := &Harness{dir: tb.TempDir(), log: zap.NewNop()}
	h.cache = h.dir
	if o.CacheDir == "" {
		o.CacheDir = os.Getenv("SIMSWARM_SCALE_CACHE_DIR")
	}
	if o.CacheDir != "" {
		d, err := os.MkdirTemp(o.CacheDir, "simswarm-scale-cache-")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { os.RemoveAll(d) })
		h.cache = d
	}
	if os.Getenv("SIMSWARM_SCALE_LOG") != "" {
		h.log, _ = zap.NewDevelopment(zap.IncreaseLevel(zapcore.WarnLevel))
	}
	if addr := os.Getenv("SIMSWARM_SCALE_PPROF_FLEET"); addr != "" {
		// The simulated runners' costs (this process).
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	rs := testdb.StartRedis(tb)
	h.RedisURL = rs.URL()
	h.RedisPID = redisPID(tb, h.RedisURL)
	h.startFerret(tb, o.IDIndex, o.MongoDir)
	h.startController(tb)
	return h
}

func (h *Harness) startFerret(tb testing.TB, idIndex bool, dataDir string) {
	tb.Helper()
	bin := filepath.Join(h.dir, "ferretapp")
	build := exec.Command("go", "build", "-o", bin, "github.com/simswarm/simswarm/test/dockerd/ferretapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build ferretapp: %v\n%s", err, out)
	}
	addr := freeport.Addr(tb)
	var args []string
	if idIndex {
		args = append(args, "-id-index")
	}
	// FerretDB's SQLite backend wedges for good under about 100
	// concurrent updates (ferretapp's admit); SIMSWARM_SCALE_MAX_WRITES
	// admits that many at once. Off by default: open cursors hold its
	// pool as well, and with writes held back 100 runners wedged it too.
	if n := os.Getenv("SIMSWARM_SCALE_MAX_WRITES"); n != "" {
		args = append(args, "-max-writes", n)
	}
	data := filepath.Join(h.dir, "ferret")
	if dataDir != "" {
		d, err := os.MkdirTemp(dataDir, "simswarm-scale-ferret-")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { os.RemoveAll(d) })
		data = d
	}
	cmd := exec.Command(bin, append(args, data, addr)...)
	cmd.Stdout, cmd.Stderr = h.logFile(tb, "ferret.log"), h.logFile(tb, "ferret.log")
	testproc.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { testproc.Stop(cmd) })
	h.MongoPID = cmd.Process.Pid
	h.MongoURI = "mongodb://" + addr + "/simswarm"
	waitTCP(tb, addr)
}

func (h *Harness) logFile(tb testing.TB, name string) *os.File {
	f, err := os.OpenFile(filepath.Join(h.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

func (h *Harness) startController(tb testing.TB) {
	tb.Helper()
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	h.Token = hex.EncodeToString(tok)
	addr := freeport.Addr(tb)
	h.ctlLog = filepath.Join(h.dir, "controller.log")
	cfg, _ := json.Marshal(controllerConfig{Listen: addr, RedisURL: h.RedisURL, MongoURI: h.MongoURI, Token: h.Token, Log: h.ctlLog})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), controllerEnv+"="+string(cfg))
	if os.Getenv(profileEnv) != "" && os.Getenv("SIMSWARM_SCALE_PPROF") == "" {
		h.ctlPprof = freeport.Addr(tb)
		cmd.Env = append(cmd.Env, "SIMSWARM_SCALE_PPROF="+h.ctlPprof)
	}
	out := h.logFile(tb, "controller.out")
	cmd.Stdout, cmd.Stderr = out, out
	testproc.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		testproc.Stop(cmd)
		if keep := os.Getenv("SIMSWARM_SCALE_KEEP_LOG"); keep != "" {
			b, _ := os.ReadFile(h.ctlLog)
			_ = os.WriteFile(keep, b, 0o644)
		}
		if tb.Failed() {
			b, _ := os.ReadFile(h.ctlLog)
			o, _ := os.ReadFile(filepath.Join(h.dir, "controller.out"))
			tb.Logf("controller log (tail):\n%s%s", tail(string(b), 3000), tail(string(o), 2000))
		}
	})
	h.ControllerPID = cmd.Process.Pid
	h.Server = "http://" + addr
	h.Client = client.New(h.Server, h.Token)
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := http.Get(h.Server + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("controller not healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Apply uploads a prebuilt model and applies a campaign of runs runs
// ("0..runs-1"); the simulations are the fleet's timers.
func (h *Harness) Apply(tb testing.TB, name string, runs int) *api.Campaign {
	tb.Helper()
	ctx := context.Background()
	src := filepath.Join(h.dir, "model-"+name)
	if err := os.MkdirAll(src, 0o755); err != nil {
		tb.Fatal(err)
	}
	// Never started (the runners' Executor is a timer), only asked by the
	// builder which runs the config has (-q runs): exactly these.
	sim := fmt.Sprintf("#!/bin/sh\ncase \" $* \" in *\" -q runs \"*) exec awk 'BEGIN { for (i = 0; i < %d; i++) print \"Run \" i \": \" }';; esac\nexit 1\n", runs)
	if err := os.WriteFile(filepath.Join(src, "sim"), []byte(sim), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "omnetpp.ini"), []byte("[General]\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	sha, size, err := sourcearchive.Pack(src, &buf)
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.Client.UploadSource(ctx, sha, &buf, size); err != nil {
		tb.Fatal(err)
	}
	h.uploaded = time.Now()
	cp := &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign}, Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Path: "model", Archive: sha}, Build: api.BuildSpec{Prebuilt: true},
			Simulation: api.SimulationSpec{Program: []string{"./sim"}, Runs: fmt.Sprintf("0..%d", runs-1)},
			Results:    []string{"results/*.sca"}}}
	got, err := h.Client.Apply(ctx, cp)
	if err != nil {
		tb.Fatalf("apply %s: %v", name, err)
	}
	return got
}

func waitTCP(tb testing.TB, addr string) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := dialTCP(addr); err == nil {
			c.Close()
			return
		} else if time.Now().After(deadline) {
			tb.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
