package dashboard_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/heartbeat"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/runlist"
)

// chromium finds the system browser (Debian package chromium). In CI a
// missing browser fails the test; elsewhere it is skipped with the fix.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium for the browser tests: apt-get install chromium (test/install-deps.sh does)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// artifacts is where screenshots go: $SIMSWARM_ARTIFACTS/<test>, else a
// directory under the system temp dir that outlives the test.
func artifacts(t *testing.T) string {
	base := os.Getenv("SIMSWARM_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "simswarm-artifacts")
	}
	dir := filepath.Join(base, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// pacedWorker follows the worker side of the record contract (claim,
// store a result file in GridFS, record the outcome) at a fixed pace, so a
// campaign's progress is visibly gradual. Run 7 fails every attempt.
type pacedWorker struct {
	st      *store.Store
	pace    time.Duration
	started atomic.Int64
	mu      sync.Mutex
	tasks   map[string]time.Time
}

func (w *pacedWorker) build(ctx context.Context, t *asynq.Task) error {
	return succeedBuild(ctx, w.st, t, "paced", 1200)
}

// succeedBuild records the build a task asks for as succeeded by worker,
// as a builder would, without building anything: the program lists runs
// 0..N of the config, N the largest run number the campaign names.
func succeedBuild(ctx context.Context, st *store.Store, t *asynq.Task, worker string, durationMs int) error {
	var bt schema.BuildTask
	if err := json.Unmarshal(t.Payload(), &bt); err != nil {
		return err
	}
	if bt.Simulation != nil {
		f, err := api.ParseRunFilter(bt.Simulation.Runs)
		if err != nil {
			return err
		}
		runs := make([]oppcli.RunInfo, f.Max()+1)
		for i := range runs {
			runs[i].Number = i
		}
		if err := runlist.Save(ctx, st.DB, runlist.ID(bt.Key, runlist.QueryOf(*bt.Simulation)), bt.Key, runs); err != nil {
			return err
		}
	}
	_, err := st.DB.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": bt.Key},
		bson.M{"$set": bson.M{"state": schema.BuildSucceeded, "worker": worker, "updatedAt": time.Now().UTC(), "durationMs": durationMs}})
	return err
}

func (w *pacedWorker) run(ctx context.Context, t *asynq.Task) error {
	var rt schema.RunTask
	if err := json.Unmarshal(t.Payload(), &rt); err != nil {
		return err
	}
	w.started.Add(1)
	label := fmt.Sprintf("%s run %d", rt.Campaign, rt.Run)
	w.mu.Lock()
	w.tasks[label] = time.Now()
	w.mu.Unlock()
	defer func() { w.mu.Lock(); delete(w.tasks, label); w.mu.Unlock() }()
	id := store.RunID(rt.Campaign, rt.UID, rt.Run)
	runs := w.st.DB.Collection(schema.CollRuns)
	start := time.Now().UTC()
	if _, err := runs.UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}},
		bson.M{"$set": bson.M{"state": schema.RunRunning, "worker": "paced-worker", "startedAt": start, "updatedAt": start},
			"$inc": bson.M{"attempts": 1}}); err != nil {
		return err
	}
	select {
	case <-time.After(w.pace):
	case <-ctx.Done():
		return ctx.Err()
	}
	now := time.Now().UTC()
	if rt.Run == 7 {
		_, err := runs.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"state": schema.RunFailed, "exitCode": 1,
			"stderrTail": "<!> Error: the channel collapsed\n", "message": "exit status 1", "durationMs": now.Sub(start).Milliseconds(),
			"finishedAt": now, "updatedAt": now}})
		return err
	}
	name := fmt.Sprintf("%s-#%d.sca", rt.Simulation.Config, rt.Run)
	data := []byte(fmt.Sprintf("version 3\nrun %s-%d\nscalar . x %d\n", rt.Simulation.Config, rt.Run, rt.Run*rt.Run))
	b := w.st.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	fid, err := b.UploadFromStream(ctx, schema.ResultName(rt.Campaign, rt.UID, rt.Run, name), bytes.NewReader(data))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	_, err = runs.UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}}, bson.M{"$set": bson.M{
		"state": schema.RunSucceeded, "exitCode": 0, "durationMs": now.Sub(start).Milliseconds(), "finishedAt": now, "updatedAt": now,
		"files": []schema.ResultFile{{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), FileID: fid}}}})
	return err
}

// heartbeat announces the worker like cmd/simswarm's workers do.
func (w *pacedWorker) heartbeat(ctx context.Context, rdb *redis.Client) {
	for {
		w.mu.Lock()
		var tasks []string
		var since time.Time
		for k, t := range w.tasks {
			tasks = append(tasks, k)
			if t.After(since) {
				since = t
			}
		}
		w.mu.Unlock()
		b, _ := json.Marshal(heartbeat.Beat{Name: "paced-worker", Role: "run", Slots: 2, Task: strings.Join(tasks, ", "), Tasks: tasks, Since: since})
		_ = rdb.Set(ctx, heartbeat.Key("paced-worker"), b, 30*time.Second).Err()
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

type quietLog struct{}

func (quietLog) Debug(...any) {}
func (quietLog) Info(...any)  {}
func (quietLog) Warn(...any)  {}
func (quietLog) Error(...any) {}
func (quietLog) Fatal(...any) {}

// TestBrowserLoginProgressSuspendResumeCancel drives the dashboard in
// headless Chromium against a whole controller (manager.Run: API,
// reconciler, dashboard) on real Redis and FerretDB, with a worker that
// consumes the real queue: log in, watch a campaign's progress advance,
// suspend it and see it stop, resume it, look at a run's results and
// download one, cancel it from the page and see it gone and its queued
// runs dropped. Screenshots of every page are kept.
func TestBrowserLoginProgressSuspendResumeCancel(t *testing.T) {
	browser := chromium(t)
	shots := artifacts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	c := startBrowserController(t, ctx)
	base, rs, st := c.base, c.redis, c.st
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	w := &pacedWorker{st: st, pace: 300 * time.Millisecond, tasks: map[string]time.Time{}}
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	go w.heartbeat(wctx, rdb)
	srv := asynq.NewServerFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}), asynq.Config{Concurrency: 2,
		Queues: map[string]int{schema.QueueBuild: 1, schema.QueueRun: 1}, Logger: quietLog{},
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond }})
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeBuild, w.build)
	mux.HandleFunc(schema.TypeRun, w.run)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	apiClient := client.New(base, token)
	camp := &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign}, Metadata: api.ObjectMeta{Name: "demo"},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.invalid/aloha.git", Commit: "0123456789abcdef0123456789abcdef01234567"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAloha", Runs: "0..399"}}}
	if _, err := apiClient.Apply(ctx, camp); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, ctx, browser, shots)
	run, text, eval, shot := b.run, b.text, b.eval, b.shot
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	// doneCount reads a campaign's finished-run count from its progress bar.
	doneCount := func(sel string) int {
		t.Helper()
		v, ok := b.attr(sel, "data-done")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			t.Fatalf("progress %s: %q", sel, v)
		}
		return n
	}
	waitUntil := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// 1. Without a session the browser lands on the login page.
	run("open the dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#token")))
	loc := eval("Promise.resolve(location.href)")
	if !strings.Contains(loc, "/ui/login") {
		t.Fatalf("without a session the browser is at %s, want the login page", loc)
	}
	run("wrong token", chromedp.SendKeys(css("#token"), "not-the-token"), chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#login-error")))
	shot("01-login-refused")
	run("log in", chromedp.SendKeys(css("#token"), token), chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css(`#campaigns tr[data-campaign="demo"] .progress`)))

	// 2. Progress advances on its own (live updates).
	bar := `#campaigns tr[data-campaign="demo"] .progress`
	waitUntil("first runs finished", 60*time.Second, func() bool { return doneCount(bar) > 0 })
	first := doneCount(bar)
	shot("02-campaigns")
	waitUntil("progress advances without a reload", 30*time.Second, func() bool { return doneCount(bar) >= first+10 })
	t.Logf("progress went from %d to %d finished runs while the page was open", first, doneCount(bar))

	// 3. The campaign page: suspend, see it stop; resume, see it go on.
	run("campaign page", chromedp.Navigate(base+"/ui/campaigns/demo"), chromedp.WaitVisible(css("#runs")))
	shot("03-campaign")
	run("suspend", b.click(`button[data-action="suspend"]`),
		chromedp.WaitVisible(css(`button[data-action="resume"]`)))
	waitUntil("phase Suspended", 20*time.Second, func() bool {
		return text("h1 .badge") == api.PhaseSuspended
	})
	// Runs in flight finish; then nothing more starts.
	time.Sleep(3 * time.Second)
	stopped := w.started.Load()
	time.Sleep(3 * time.Second)
	if n := w.started.Load(); n != stopped {
		t.Fatalf("%d runs started while suspended", n-stopped)
	}
	shot("04-suspended")
	run("resume", b.click(`button[data-action="resume"]`),
		chromedp.WaitVisible(css(`button[data-action="suspend"]`)))
	waitUntil("runs start again after resume", 20*time.Second, func() bool { return w.started.Load() > stopped+4 })

	// 4. A run's details: attempts and its result file, downloadable with
	// the session alone.
	run("failed tab", b.click(`button[data-state="Failed"]`), chromedp.WaitVisible(css(`button.on[data-state="Failed"]`)))
	run("succeeded tab", b.click(`button[data-state="Succeeded"]`),
		chromedp.WaitVisible(css(`button.on[data-state="Succeeded"]`)),
		b.click(`#runs tr[data-run]:has(.badge.Succeeded) button`),
		chromedp.WaitVisible(css(`#result-files a`)))
	shot("05-run-results")
	sca := eval(`fetch(document.querySelector("#result-files a").href).then(r => r.ok ? r.text() : "HTTP " + r.status)`)
	if !strings.HasPrefix(sca, "version 3\nrun PureAloha-") {
		t.Fatalf("downloaded result: %q", sca)
	}

	// 5. The other pages.
	run("queues page", chromedp.Navigate(base+"/ui/queues"), chromedp.WaitVisible(css(`#workers tr[data-worker="paced-worker"]`)),
		chromedp.WaitVisible(css(`#queues tr[data-queue="run"]`)))
	waitUntil("run 7's failure listed with its stderr", 30*time.Second, func() bool {
		return strings.Contains(text("#failures"), "exit status 1")
	})
	shot("06-queues")
	run("swarm page", chromedp.Navigate(base+"/ui/swarm"), chromedp.WaitVisible(css("#no-docker")))
	shot("07-swarm-without-docker")

	// 6. Cancel from the page: the campaign is gone, its queued runs are
	// dropped and no new run starts.
	run("campaign page again", chromedp.Navigate(base+"/ui/campaigns/demo"), chromedp.WaitVisible(css(`button[data-action="cancel"]`)))
	run("cancel", b.click(`button[data-action="cancel"]`),
		chromedp.WaitVisible(css(`button[data-action="confirm-cancel"]`)))
	shot("08-cancel-confirm")
	run("confirm", b.click(`button[data-action="confirm-cancel"]`), chromedp.WaitVisible(css("#gone")))
	shot("09-cancelled")
	if _, err := st.Get(ctx, "demo"); err == nil {
		t.Fatal("the campaign still exists after cancelling it from the page")
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	waitUntil("queued runs dropped", 30*time.Second, func() bool {
		ts, _ := insp.ListPendingTasks(schema.QueueRun, asynq.PageSize(1000))
		return len(ts) == 0
	})
	time.Sleep(2 * time.Second) // in-flight runs finish
	stopped = w.started.Load()
	time.Sleep(3 * time.Second)
	if n := w.started.Load(); n != stopped {
		t.Fatalf("%d runs started after the campaign was cancelled", n-stopped)
	}
	if stopped >= 400 {
		t.Fatalf("all %d runs ran: the cancel came too late to show anything", stopped)
	}
	run("overview after cancel", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(css("main p.muted")))
	if n := eval(`Promise.resolve(String(document.querySelectorAll("#campaigns tr[data-campaign]").length))`); n != "0" {
		t.Fatalf("%s campaigns listed after the cancel", n)
	}
}

// browserT drives one headless Chromium tab for a test.
type browserT struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// newBrowser starts Chromium with a fresh profile and no background
// traffic; it stops when ctx ends or the test does.
func newBrowser(t *testing.T, ctx context.Context, path, shots string) *browserT {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 900))
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first call starts the browser, which lives as long as its
	// context: no timeout of its own.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browserT{t: t, ctx: bctx, shots: shots}
}

func (b *browserT) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 30*time.Second)
}

func (b *browserT) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browserT) text(sel string) string {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return b.eval(inPage(sel, "e.innerText"))
}

// click clicks what sel selects once it is visible. The page's live
// updates replace nodes, so a node chromedp looked up can be gone by the
// time it is clicked ("Could not find node with given id"); the lookup
// and the click happen in one script instead.
func (b *browserT) click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.WaitVisible(chromedp.CSS(sel))(ctx, tg); err != nil {
			return err
		}
		got, err := chromedp.Evaluate[string](inPage(sel, `(e.click(), "clicked")`), chromedp.EvalAwaitPromise)(ctx, tg)
		if err == nil && got != "clicked" {
			err = fmt.Errorf("%s: %s", sel, got)
		}
		return err
	})
}

// inPage is a script that yields expr of the element sel selects now, or
// "no element" when none does.
func inPage(sel, expr string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); return Promise.resolve(e ? %s : "no element"); })()`, sel, expr)
}

// eval runs a script that yields a string (or a promise of one).
func (b *browserT) eval(js string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (b *browserT) attr(sel, name string) (string, bool) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		b.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return res.Value, res.Exists
}

// shot saves a full-page screenshot as NAME.png.
func (b *browserT) shot(name string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// login logs the tab in at base.
func (b *browserT) login(base string) {
	b.t.Helper()
	b.run("log in", chromedp.Navigate(base+"/ui/login"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// TestBrowserSwarmViewColoursTasksByService renders the swarm page from a
// narrow fake observer (the real one needs a swarm; see cmd/simswarm's
// TestControllerReconcilesStackWhileLeading): every node with its tasks as
// chips coloured by service, down nodes marked, the services' replicas and
// the reconciler's actions.
func TestBrowserSwarmViewColoursTasksByService(t *testing.T) {
	path := chromium(t)
	shots := artifacts(t)
	now := time.Now().UTC()
	o := &stack.Observation{Stack: "simswarm", LastPass: stack.Pass{Time: now.Add(-4 * time.Second), Duration: 35 * time.Millisecond, Writes: 1}}
	add := func(svc string, replicas int, nodes ...string) {
		running := 0
		for i := 0; i < replicas; i++ {
			state := "running"
			if svc == "simswarm_runner" && i == replicas-1 {
				state = "starting"
			} else {
				running++
			}
			o.Tasks = append(o.Tasks, stack.ObservedTask{ID: fmt.Sprint(svc, i), Service: svc, NodeID: nodes[i%len(nodes)], Slot: i + 1, State: state})
		}
		o.Services = append(o.Services, stack.ObservedService{Name: svc, Stack: true, Mode: "replicated", Desired: replicas, Running: running, Image: "simswarm/simswarm:dev"})
	}
	o.Nodes = []stack.ObservedNode{
		{ID: "m", Hostname: "manager", Role: "manager", Availability: "active", State: "ready", Leader: true, NanoCPUs: 8e9, MemoryBytes: 32 << 30, Addr: "10.0.0.1"},
		{ID: "w1", Hostname: "worker-1", Role: "worker", Availability: "active", State: "ready", NanoCPUs: 16e9, MemoryBytes: 64 << 30},
		{ID: "w2", Hostname: "worker-2", Role: "worker", Availability: "active", State: "ready", NanoCPUs: 16e9, MemoryBytes: 64 << 30},
		{ID: "w3", Hostname: "worker-3", Role: "worker", Availability: "drain", State: "down", NanoCPUs: 16e9, MemoryBytes: 64 << 30},
	}
	for _, svc := range []string{"simswarm_controller", "simswarm_redis", "simswarm_mongo", "simswarm_builder"} {
		add(svc, 1, "m")
	}
	add("simswarm_runner", 36, "w1", "w2", "m")
	add("simswarm_distcc", 3, "m", "w1", "w2")
	o.Actions = []stack.Action{
		{Time: now.Add(-4 * time.Second), What: "updated service/simswarm_runner", Why: "replicas 52 -> 36 (the CPUs of the nodes that run runners changed)"},
		{Time: now.Add(-5 * time.Minute), What: "created service/simswarm_distcc", Why: "missing: the stack needs it"},
	}
	e := newEnv(t, func(c *dashboard.Config) { c.Swarm = &fakeSwarm{o: o} })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := newBrowser(t, ctx, path, shots)
	b.login(e.srv.URL)
	b.run("swarm page", chromedp.Navigate(e.srv.URL+"/ui/swarm"), chromedp.WaitVisible(chromedp.CSS(`#nodes .node[data-node="worker-3"]`)))
	b.shot("swarm")
	if n := b.eval(`Promise.resolve(String(document.querySelectorAll("#nodes .chip").length))`); n != "43" {
		t.Errorf("%s task chips, want 43", n)
	}
	// Chips of one service share a colour; another service's differ.
	colours := b.eval(`Promise.resolve(JSON.stringify([...document.querySelectorAll("#nodes .chip")].map(c => c.textContent.split(".")[0] + "=" + c.style.background)))`)
	var chips []string
	if err := json.Unmarshal([]byte(colours), &chips); err != nil {
		t.Fatal(err)
	}
	byService := map[string]map[string]bool{}
	for _, c := range chips {
		svc, col, _ := strings.Cut(c, "=")
		if byService[svc] == nil {
			byService[svc] = map[string]bool{}
		}
		byService[svc][col] = true
	}
	if len(byService["runner"]) != 1 || len(byService["distcc"]) != 1 || byService["runner"][firstKey(byService["distcc"])] {
		t.Errorf("chip colours by service: %v", byService)
	}
	if cls, _ := b.attr(`#nodes .node[data-node="worker-3"]`, "class"); !strings.Contains(cls, "down") {
		t.Errorf("the down node is not marked: class %q", cls)
	}
	if txt := b.text("#actions"); !strings.Contains(txt, "replicas 52 -> 36") {
		t.Errorf("actions table: %q", txt)
	}
	if txt := b.text(`#services tr[data-service="simswarm_runner"]`); !strings.Contains(txt, "36") || !strings.Contains(txt, "35") {
		t.Errorf("runner service row: %q", txt)
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// browserController runs a whole controller (real redis-server and
// FerretDB) for a browser test until the test ends, and opens its store.
type browserController struct {
	base  string
	redis *testdb.Redis
	st    *store.Store
}

func startBrowserController(t *testing.T, ctx context.Context) browserController {
	t.Helper()
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	ready := make(chan string, 1)
	mctx, stopManager := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(mctx, manager.Config{Listen: "127.0.0.1:0", RedisURL: rs.URL(), MongoURI: mongoURI, Token: token,
			LeaseDuration: 2 * time.Second, Resync: time.Second,
			Logger: zap.NewNop(), Ready: ready})
	}()
	t.Cleanup(func() { stopManager(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("controller: %v", err)
	}
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return browserController{base: "http://" + addr, redis: rs, st: st}
}
