package campaign

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/runlist"
)

type env struct {
	st  *store.Store
	rs  *testdb.Redis
	rdb *redis.Client
	q   *AsynqQueue
	r   *Reconciler
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	q := NewAsynqQueue(rdb)
	r := &Reconciler{Store: st, Tasks: q, Shares: NewShares(32), Epoch: 1,
		Expander: &SpecExpander{Store: st}}
	return &env{st: st, rs: rs, rdb: rdb, q: q, r: r}
}

func (e *env) reconcile(t *testing.T, name string) {
	t.Helper()
	if _, err := e.r.Reconcile(context.Background(), name); err != nil {
		t.Fatalf("reconcile %s: %v", name, err)
	}
}

func (e *env) tasks(t *testing.T, name, uid string) map[int]string {
	t.Helper()
	m, err := e.q.RunTasks(context.Background(), name, uid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) counts(t *testing.T, name, uid string) api.RunCounts {
	t.Helper()
	c, err := e.st.RunCounts(context.Background(), name, uid)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newCampaign is a campaign as the API stores it: defaulted, and valid
// but for what runs makes it.
func newCampaign(name, runs string) *api.Campaign {
	c := &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Path: "aloha", Archive: strings.Repeat("feed", 16)},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAloha", Runs: runs}}}
	api.SetDefaults(c)
	return c
}

// built creates a campaign, lets its build succeed and reconciles it
// twice more: its records are created from the program's run list, then
// its first window is dispatched.
func (e *env) built(t *testing.T, name, runs string) *api.Campaign {
	t.Helper()
	e.buildDone(t, name, runs)
	e.reconcile(t, name)
	e.reconcile(t, name)
	c, _ := e.st.Get(context.Background(), name)
	return c
}

// buildDone creates a campaign, reconciles it once (its build is
// requested) and lets the build succeed, with no pass after it.
func (e *env) buildDone(t *testing.T, name, runs string) *api.Campaign {
	t.Helper()
	ctx := context.Background()
	if _, err := e.st.Create(ctx, newCampaign(name, runs)); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, name)
	c, _ := e.st.Get(ctx, name)
	e.finishBuild(t, c.Status.Build.Key)
	return c
}

// finishBuild plays the builder: the program of each campaign of the build
// lists runs 0..N of its config, N the largest run number the campaign
// names (unless a list is there already, see listConfigRuns), and the build
// succeeds.
func (e *env) finishBuild(t *testing.T, key string) {
	t.Helper()
	ctx := context.Background()
	cs, err := e.st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		f, err := api.ParseRunFilter(c.Spec.Simulation.Runs)
		if c.Status.Build.Key != key || err != nil {
			continue
		}
		if rec, err := runlist.Get(ctx, e.st.DB, runlist.ID(key, runlist.QueryOf(c.Spec.Simulation))); err != nil || rec == nil {
			e.listConfigRuns(t, key, c.Spec.Simulation, f.Max()+1)
		}
	}
	_, err = e.st.DB.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": key},
		bson.M{"$set": bson.M{"state": schema.BuildSucceeded}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReconcileCampaignLifecycleOnRealRedisAndMongo(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := e.st.Create(ctx, newCampaign("aloha", "0..99"))
	if err != nil {
		t.Fatal(err)
	}
	uid := c.Metadata.UID

	// Pass 1: build requested, the 100 runs asked for pending, nothing
	// dispatched yet, and no record before the program lists which runs
	// exist.
	e.reconcile(t, "aloha")
	c, _ = e.st.Get(ctx, "aloha")
	if c.Status.Phase != api.PhaseBuilding || c.Status.Build.Key == "" || c.Status.ObservedGeneration != 1 {
		t.Fatalf("status after first pass: %+v", c.Status)
	}
	if r := c.Status.Runs; r.Total != 100 || r.Pending != 100 {
		t.Fatalf("status counts while building: %+v, want the 100 runs asked for pending", r)
	}
	if ok, _ := e.q.BuildQueued(ctx, c.Status.Build.Key); !ok {
		t.Fatal("build task not enqueued")
	}
	if b, err := e.st.GetBuild(ctx, c.Status.Build.Key); err != nil || b.State != schema.BuildPending {
		t.Fatalf("build record: %+v %v", b, err)
	}
	if n := e.counts(t, "aloha", uid); n.Total != 0 {
		t.Fatalf("run records before the program listed the runs: %+v", n)
	}
	if len(e.tasks(t, "aloha", uid)) != 0 {
		t.Fatal("runs dispatched before the build succeeded")
	}

	// Build done: the records from the program's run list, then a bounded
	// window of run tasks, deduplicated.
	e.finishBuild(t, c.Status.Build.Key)
	e.reconcile(t, "aloha")
	if n := e.counts(t, "aloha", uid); n.Total != 100 || n.Pending != 100 {
		t.Fatalf("run records: %+v", n)
	}
	e.reconcile(t, "aloha")
	if got := len(e.tasks(t, "aloha", uid)); got != 32 {
		t.Fatalf("%d run tasks queued, want a window of 32", got)
	}
	// Dispatching writes no record: the queue says what is queued.
	if n := e.counts(t, "aloha", uid); n.Pending != 100 {
		t.Fatalf("records after dispatch: %+v, want all still Pending", n)
	}
	e.reconcile(t, "aloha")
	if got := len(e.tasks(t, "aloha", uid)); got != 32 {
		t.Fatalf("second pass changed the window: %d tasks", got)
	}
	if c, _ = e.st.Get(ctx, "aloha"); c.Status.Runs.Queued != 32 || c.Status.Runs.Pending != 68 {
		t.Fatalf("status counts after dispatch: %+v", c.Status.Runs)
	}

	// Redis loses everything: the queue is rebuilt from the run records.
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "aloha")
	if got := len(e.tasks(t, "aloha", uid)); got != 32 {
		t.Fatalf("after FLUSHALL: %d tasks, want 32 rebuilt", got)
	}
	e.reconcile(t, "aloha")
	if c, _ = e.st.Get(ctx, "aloha"); c.Status.Runs.Queued != 32 {
		t.Fatalf("after FLUSHALL: status counts %+v", c.Status.Runs)
	}

	// Suspend: queued tasks removed, the records still Pending.
	c, _ = e.st.Get(ctx, "aloha")
	c.Spec.Suspend = true
	if _, err := e.st.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "aloha")
	if got := len(e.tasks(t, "aloha", uid)); got != 0 {
		t.Fatalf("suspended campaign still has %d tasks", got)
	}
	c, _ = e.st.Get(ctx, "aloha")
	if c.Status.Phase != api.PhaseSuspended || c.Status.ObservedGeneration != 2 {
		t.Fatalf("suspended status: %+v", c.Status)
	}
	if n := e.counts(t, "aloha", uid); n.Pending != 100 {
		t.Fatalf("after suspend: %+v", n)
	}
	// Resume.
	c.Spec.Suspend = false
	if _, err := e.st.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "aloha")
	if got := len(e.tasks(t, "aloha", uid)); got != 32 {
		t.Fatalf("after resume: %d tasks", got)
	}

	// Delete: queued tasks and run records go.
	if err := e.st.Delete(ctx, "aloha"); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "aloha")
	if got := len(e.tasks(t, "aloha", uid)); got != 0 {
		t.Fatalf("deleted campaign still has %d tasks", got)
	}
	if n := e.counts(t, "aloha", uid); n.Total != 0 {
		t.Fatalf("deleted campaign still has run records: %+v", n)
	}
}

func TestReconcileCompletesRetriesAndConverges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.built(t, "small", "0..2")
	uid := c.Metadata.UID
	// Play the runners: run 0 and 1 succeed, run 2 fails once.
	runs := e.st.DB.Collection(schema.CollRuns)
	set := func(run int, state string, attempts int) {
		_, err := runs.UpdateOne(ctx, bson.M{"_id": store.RunID("small", uid, run)},
			bson.M{"$set": bson.M{"state": state, "attempts": attempts}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := e.rdb.FlushAll(ctx).Err(); err != nil { // the workers consumed the tasks
		t.Fatal(err)
	}
	set(0, schema.RunSucceeded, 1)
	set(1, schema.RunSucceeded, 1)
	set(2, schema.RunFailed, 1)
	e.reconcile(t, "small")
	tasks := e.tasks(t, "small", uid)
	if len(tasks) != 1 || tasks[2] == "" {
		t.Fatalf("failed run not retried: tasks %v", tasks)
	}
	if info, err := e.q.Inspector.GetTaskInfo(schema.QueueRun, schema.RunTaskID("small", uid, 2, 1)); err != nil || info == nil {
		t.Fatalf("retry task has not the next attempt's ID: %v", err)
	}
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	set(2, schema.RunSucceeded, 2)
	e.reconcile(t, "small")
	c, _ = e.st.Get(ctx, "small")
	if c.Status.Phase != api.PhaseSucceeded || c.Status.CompletionTime == nil || c.Status.Runs.Succeeded != 3 {
		t.Fatalf("status: %+v", c.Status)
	}
	if cond(c.Status, api.ConditionReady).Status != api.ConditionTrue {
		t.Fatalf("not Ready: %+v", c.Status.Conditions)
	}
	rv := c.Metadata.ResourceVersion
	e.reconcile(t, "small")
	e.reconcile(t, "small")
	c, _ = e.st.Get(ctx, "small")
	if c.Metadata.ResourceVersion != rv {
		t.Fatalf("reconciling a converged campaign wrote to it: rv %s -> %s", rv, c.Metadata.ResourceVersion)
	}
	if n, _ := e.rdb.DBSize(ctx).Result(); n != 0 {
		keys, _ := e.rdb.Keys(ctx, "*").Result()
		if len(e.tasks(t, "small", uid)) != 0 {
			t.Fatalf("converged campaign enqueued tasks: %v", keys)
		}
	}
}

func TestInvalidSpecIsStalledNotRetried(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.st.Create(ctx, newCampaign("bad", "nine")); err != nil {
		t.Fatal(err)
	}
	after, err := e.r.Reconcile(ctx, "bad")
	if err != nil || after != 0 {
		t.Fatalf("invalid spec: requeue %v err %v, want terminal", after, err)
	}
	c, _ := e.st.Get(ctx, "bad")
	s := cond(c.Status, api.ConditionStalled)
	if c.Status.Phase != api.PhaseFailed || s.Status != api.ConditionTrue || s.Reason != ReasonInvalidSpec || !strings.Contains(s.Message, "spec.simulation.runs") {
		t.Fatalf("status: %+v", c.Status)
	}
}

func TestFencedLeaderCannotWriteStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _ := e.st.Create(ctx, newCampaign("f", "0..1"))
	if err := e.st.UpdateStatus(ctx, "f", c.Metadata.UID, api.CampaignStatus{Phase: "x"}, 5); err != nil {
		t.Fatal(err)
	}
	e.r.Epoch = 4
	if _, err := e.r.Reconcile(ctx, "f"); err == nil || !strings.Contains(err.Error(), "fenced") {
		t.Fatalf("deposed leader's reconcile: %v, want fenced", err)
	}
}

func TestWindowIsSharedByPriority(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	low, _ := e.st.Create(ctx, newCampaign("low", "0..99"))
	hc := newCampaign("high", "0..19")
	hc.Spec.Priority = 10
	hc.Spec.Source.Archive = strings.Repeat("beef", 16) // another build, so high is not ready first
	high, _ := e.st.Create(ctx, hc)
	for _, n := range []string{"low", "high"} {
		e.reconcile(t, n)
		c, _ := e.st.Get(ctx, n)
		e.finishBuild(t, c.Status.Build.Key)
	}
	e.reconcile(t, "low") // creates its records from the program's run list
	e.reconcile(t, "low")
	if got := len(e.tasks(t, "low", low.Metadata.UID)); got != 32 {
		t.Fatalf("low alone: %d tasks, want the whole window of 32", got)
	}
	e.reconcile(t, "high")
	e.reconcile(t, "high")
	if got := len(e.tasks(t, "high", high.Metadata.UID)); got != 20 {
		t.Fatalf("high: %d tasks, want its whole demand of 20", got)
	}
	// Low's tasks finish: it may refill only its remaining share (32-20).
	done := e.tasks(t, "low", low.Metadata.UID)
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for run := range done {
		if ok, err := e.st.SetRunState(ctx, store.RunID("low", low.Metadata.UID, run), schema.RunPending, schema.RunSucceeded, ""); !ok || err != nil {
			t.Fatalf("finish run %d: %v %v", run, ok, err)
		}
	}
	e.r.Reconcile(ctx, "high") // high re-enqueues its lost tasks: 20
	e.reconcile(t, "low")
	if got := len(e.tasks(t, "low", low.Metadata.UID)); got != 12 {
		t.Fatalf("low next to high: %d tasks, want 12", got)
	}
}
