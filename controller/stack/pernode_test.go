package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap/zaptest"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/heartbeat"
	"github.com/simswarm/simswarm/workers/tarball"
)

const simswarmImage = "simswarm-test/simswarm:1"

// TestRunnerPerNodeRunsItsNodesSlots is a runner per node on a real
// two-node swarm (a manager and a joined worker, each reporting this
// machine's 2 CPUs). The stack's runners reserve 0.5 CPU a slot and the
// manager keeps 0.5 CPU: 3 slots on the manager, 4 on the worker.
//
//   - The stack's runner service is global: one task per node, on both.
//   - The reconciler publishes each node's count; real runners
//     (`simswarm worker` in the runner spec stackspec builds: global, its
//     node's ID from {{.Node.ID}}) read it. As the stack's own Redis and
//     MongoDB live on an overlay these runners cannot share with the
//     test, they use the host's network and the test's redis-server and
//     FerretDB instead; everything else is the stack's runner spec.
//   - 21 simulations of 2 s each (fakesim): every runner ran as many at
//     once as its node's count, and never more (start and end times of
//     the run records, per worker).
//   - The manager's reserve grows to 1.5 CPUs (a changed Stack: a new
//     reconciler, as a restarted controller): the manager's count drops
//     to 1 with no write to the runner service (no replica arithmetic),
//     its runner re-sizes itself, and the next simulations run one at a
//     time there while the worker still runs 4.
//   - The worker leaves: its count drops to 0, the runner service is
//     still not written.
func TestRunnerPerNodeRunsItsNodesSlots(t *testing.T) {
	d := dockertest.Start(t)
	w := d.JoinWorker(t)
	for _, e := range []*dockertest.Daemon{d, w} {
		e.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
		e.ImportGoImage(t, simswarmImage, "github.com/simswarm/simswarm/cmd/simswarm")
	}
	rs, mongoURI := testdb.StartRedis(t), testdb.StartMongo(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	client, db, err := schema.Connect(t.Context(), mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	s := testStack(t, d)
	half := 0.5
	s.Spec.Runner.CPUReservation = &half
	s.Spec.Manager.CPUReserve = &half
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "simswarm_api-token"}, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "worker node ready", func() (bool, string) {
		n, _, err := d.Client.NodeInspectWithRaw(ctx, w.NodeID)
		return err == nil && n.Status.State == swarm.NodeStateReady, fmt.Sprint(n.Status.State, err)
	})
	docker := &countingDocker{Docker: d.Client}
	start := func(s *api.Stack) (stop func()) {
		rec, err := New(Config{Stack: s, Docker: docker, Events: d.Client, Hosts: RedisHosts{Client: rdb}, Slots: RedisHosts{Client: rdb},
			Logger: zaptest.NewLogger(t), Resync: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- rec.Run(rctx) }()
		return func() { rcancel(); <-done }
	}
	stop := start(s)
	published := func() map[string]int {
		m, _ := rdb.HGetAll(ctx, schema.RunnerSlotsKey).Result()
		out := map[string]int{}
		for k, v := range m {
			out[k], _ = strconv.Atoi(v)
		}
		return out
	}
	want := map[string]int{d.NodeID: 3, w.NodeID: 4}
	eventually(t, 60*time.Second, "slots published per node", func() (bool, string) {
		return maps.Equal(published(), want), fmt.Sprint(published())
	})

	// The stack's runner service: global, one task on each node. (Its
	// tasks on the joined engine need the overlay, which two engines in
	// one network namespace cannot share: only their placement counts.)
	runnerName := stackspec.ObjectName(s, stackspec.Runner)
	eventually(t, 90*time.Second, "one stack runner task on each node", func() (bool, string) {
		svc, _, err := d.Client.ServiceInspectWithRaw(ctx, runnerName, swarm.ServiceInspectOptions{})
		if err != nil {
			return false, err.Error()
		}
		if svc.Spec.Mode.Global == nil {
			return false, fmt.Sprintf("runner service mode %+v, want global", svc.Spec.Mode)
		}
		nodes := taskNodes(ctx, t, d, runnerName, false)
		return slices.Equal(nodes, sortedIDs(d.NodeID, w.NodeID)), fmt.Sprint("tasks on ", nodes)
	})
	runnerVersion := mustService(t, &fixture{d: d, stack: s}, stackspec.Runner).Version.Index

	// Real runners from the stack's runner spec, on the host's network.
	desired, err := stackspec.Build(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	var spec swarm.ServiceSpec
	for _, svc := range desired.Services {
		if svc.Component == stackspec.Runner {
			spec = svc.Spec
		}
	}
	spec.Name = "pernode_runner"
	spec.Labels = nil // not the stack's: the reconciler leaves it alone
	c := *spec.TaskTemplate.ContainerSpec
	c.Image = simswarmImage
	c.Labels = nil
	// Host networking shares the machine's host name, and both runners
	// are PID 1: name them by node, as the default (host-role-pid) would
	// not tell them apart here.
	c.Env = []string{"SIMSWARM_NAME=runner-{{.Node.ID}}"}
	for _, e := range spec.TaskTemplate.ContainerSpec.Env {
		switch {
		case strings.HasPrefix(e, "SIMSWARM_REDIS="):
			e = "SIMSWARM_REDIS=" + rs.URL()
		case strings.HasPrefix(e, "SIMSWARM_MONGO="):
			e = "SIMSWARM_MONGO=" + mongoURI
		}
		c.Env = append(c.Env, e)
	}
	spec.TaskTemplate.ContainerSpec = &c
	spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "host"}}
	if _, err := d.Client.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := d.TryCLI(nil, "service", "logs", "--raw", "--tail", "60", "pernode_runner")
			t.Logf("--- runner logs ---\n%s", out)
		}
	})
	// slotsOf maps the live runners' names to their slots.
	slotsOf := func() map[string]int {
		beats, _ := heartbeat.Read(ctx, rdb)
		out := map[string]int{}
		for _, b := range beats {
			out[b.Name] = b.ActiveSlots()
		}
		return out
	}
	waitRunners := func(what string, want ...int) map[string]int {
		var got map[string]int
		eventually(t, 2*time.Minute, what, func() (bool, string) {
			got = slotsOf()
			return slices.Equal(slices.Sorted(maps.Values(got)), want), fmt.Sprint(got)
		})
		return got
	}
	slots := waitRunners("a runner with 3 slots and one with 4", 3, 4)
	if nodes := taskNodes(ctx, t, d, "pernode_runner", true); !slices.Equal(nodes, sortedIDs(d.NodeID, w.NodeID)) {
		t.Errorf("the runners run on %v, want one on each node", nodes)
	}

	key := storeFakesim(t, db)
	aq := asynq.NewClientFromRedisClient(rdb)
	defer aq.Close()
	from := time.Now()
	enqueueSlowRuns(t, db, aq, key, 0, 21)
	waitSucceeded(t, db, 21, 3*time.Minute)
	most := mostAtOnce(t, db, from)
	if len(most) != 2 {
		t.Errorf("runs were carried out by %v, want the two runners %v", most, slots)
	}
	for name, n := range most {
		if n != slots[name] {
			t.Errorf("runner %s with %d slots ran up to %d simulations at once, want exactly %d (all: %v, slots %v)", name, slots[name], n, slots[name], most, slots)
		}
	}
	t.Logf("simulations at once per runner: %v (slots %v)", most, slots)

	// The manager's CPU grant shrinks: a new count, no replica arithmetic.
	stop()
	docker.take()
	s2 := testStack(t, d)
	s2.Spec.Controller = s.Spec.Controller
	s2.Spec.Runner.CPUReservation = &half
	more := 1.5
	s2.Spec.Manager.CPUReserve = &more
	stop = start(s2)
	defer func() { stop() }()
	want = map[string]int{d.NodeID: 1, w.NodeID: 4}
	eventually(t, 60*time.Second, "the manager's count drops to 1", func() (bool, string) {
		return maps.Equal(published(), want), fmt.Sprint(published())
	})
	slots = waitRunners("the manager's runner re-sized to 1 slot", 1, 4)
	from = time.Now()
	enqueueSlowRuns(t, db, aq, key, 21, 15)
	waitSucceeded(t, db, 36, 3*time.Minute)
	most = mostAtOnce(t, db, from)
	for name, n := range most {
		if n > slots[name] {
			t.Errorf("after the change runner %s with %d slots ran %d simulations at once", name, slots[name], n)
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(most)), 4) {
		t.Errorf("after the change the worker's runner never ran its 4 at once: %v (slots %v)", most, slots)
	}
	t.Logf("after the change, simulations at once per runner: %v (slots %v)", most, slots)

	// The worker leaves: its count goes to 0.
	w.Leave(t)
	want = map[string]int{d.NodeID: 1, w.NodeID: 0}
	took := eventually(t, 90*time.Second, "the departed worker's count is 0", func() (bool, string) {
		return maps.Equal(published(), want), fmt.Sprint(published())
	})
	t.Logf("MEASURE worker left -> its slots 0: %v", took)
	for _, call := range docker.take() {
		if strings.Contains(call, runnerName) {
			t.Errorf("the runner service was written (%s): slot counts must need no service change", call)
		}
	}
	if v := mustService(t, &fixture{d: d, stack: s}, stackspec.Runner).Version.Index; v != runnerVersion {
		t.Errorf("runner service version %d -> %d: it was changed", runnerVersion, v)
	}
}

func sortedIDs(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

// taskNodes lists the nodes (sorted) of the service's tasks meant to run
// (with running, only of those that do).
func taskNodes(ctx context.Context, t *testing.T, d *dockertest.Daemon, service string, running bool) []string {
	tasks, err := d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", service), filters.Arg("desired-state", "running"))})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, task := range tasks {
		if !running || task.Status.State == swarm.TaskStateRunning {
			nodes = append(nodes, task.NodeID)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// storeFakesim stores fakesim (static) with an ini of slow runs as a built
// artifact and returns its key.
func storeFakesim(t *testing.T, db *mongo.Database) string {
	t.Helper()
	const key = "2123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	src := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(src, "fakesim"), "github.com/simswarm/simswarm/test/fixtures/fakesim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build fakesim: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(src, "omnetpp.ini"), []byte("[General]\n**.mode = ${mode=slow}\n**.n = ${n=0..99}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sha, _, err := tarball.Pack(src, []string{"."}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts)).
		UploadFromStream(t.Context(), schema.ArtifactName(key), &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(schema.CollBuilds).InsertOne(t.Context(), schema.BuildRecord{Key: key, State: schema.BuildSucceeded, SHA256: sha}); err != nil {
		t.Fatal(err)
	}
	return key
}

// enqueueSlowRuns records and enqueues runs first..first+n-1 of fakesim,
// 2 s each.
func enqueueSlowRuns(t *testing.T, db *mongo.Database, aq *asynq.Client, key string, first, n int) {
	t.Helper()
	for run := first; run < first+n; run++ {
		if _, err := db.Collection(schema.CollRuns).InsertOne(t.Context(), schema.RunRecord{ID: schema.RunID("c", "uid-1", run),
			Campaign: "c", UID: "uid-1", Run: run, State: schema.RunPending}); err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "uid-1", Run: run, ArtifactKey: key,
			Simulation: api.SimulationSpec{Program: []string{"./fakesim"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: ".",
				Env: map[string]string{"FAKESIM_SLOW": "2s"}},
			Results: []string{"results/*.sca"}, Timeout: api.Duration{Duration: time.Minute}})
		if _, err := aq.Enqueue(asynq.NewTask(schema.TypeRun, payload), asynq.TaskID(schema.RunTaskID("c", "uid-1", run, 0)),
			asynq.Queue(schema.QueueRun), asynq.MaxRetry(3)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitSucceeded waits until n runs succeeded.
func waitSucceeded(t *testing.T, db *mongo.Database, n int64, limit time.Duration) {
	t.Helper()
	eventually(t, limit, fmt.Sprintf("%d runs succeeded", n), func() (bool, string) {
		got, err := db.Collection(schema.CollRuns).CountDocuments(t.Context(), bson.M{"state": schema.RunSucceeded})
		return got == n, fmt.Sprint(got, err)
	})
}

// mostAtOnce is, per worker, the most simulations that ran at once among
// the runs that started after from: a record's start is when its
// simulation got a slot, its duration the simulation's.
func mostAtOnce(t *testing.T, db *mongo.Database, from time.Time) map[string]int {
	t.Helper()
	cur, err := db.Collection(schema.CollRuns).Find(t.Context(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []schema.RunRecord
	if err := cur.All(t.Context(), &recs); err != nil {
		t.Fatal(err)
	}
	type edge struct {
		at    time.Time
		delta int
	}
	edges := map[string][]edge{}
	for _, r := range recs {
		if r.StartedAt == nil || r.StartedAt.Before(from) {
			continue
		}
		// Both are stored to the millisecond: a slot handed on within the
		// same millisecond must not count as two at once.
		end := r.StartedAt.Add(time.Duration(r.DurationMS)*time.Millisecond - 2*time.Millisecond)
		edges[r.Worker] = append(edges[r.Worker], edge{*r.StartedAt, 1}, edge{end, -1})
	}
	most := map[string]int{}
	for wk, es := range edges {
		// Ends before starts at the same instant: a slot handed on.
		slices.SortFunc(es, func(a, b edge) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return a.delta - b.delta
		})
		n := 0
		for _, e := range es {
			n += e.delta
			most[wk] = max(most[wk], n)
		}
	}
	return most
}
