package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// fakeSwarm is a narrow SwarmObserver for the swarm view's logic; the
// real one (the stack reconciler) is exercised against a real swarm in
// cmd/simswarm's TestControllerReconcilesStackWhileLeading.
type fakeSwarm struct {
	o   *stack.Observation
	err error
}

func (f *fakeSwarm) Observe(context.Context) (*stack.Observation, error) { return f.o, f.err }

func TestSwarmViewShowsNodesTasksServicesAndReconcilerActions(t *testing.T) {
	now := time.Now().UTC()
	obs := &fakeSwarm{o: &stack.Observation{Stack: "simswarm",
		Nodes: []stack.ObservedNode{
			{ID: "m", Hostname: "manager-1", Role: "manager", Availability: "active", State: "ready", Leader: true, NanoCPUs: 4e9, MemoryBytes: 16 << 30},
			{ID: "w", Hostname: "worker-1", Role: "worker", Availability: "drain", State: "down", NanoCPUs: 16e9, MemoryBytes: 32 << 30}},
		Services: []stack.ObservedService{{Name: "simswarm_runner", Component: "runner", Stack: true, Mode: "replicated", Desired: 3, Running: 2}},
		Tasks: []stack.ObservedTask{{ID: "t1", Service: "simswarm_runner", NodeID: "w", Slot: 1, State: "running"},
			{ID: "t2", Service: "simswarm_runner", NodeID: "m", Slot: 2, State: "running"}},
		Actions:  []stack.Action{{Time: now, What: "updated service/simswarm_runner", Why: "replicas 2 -> 3 (the CPUs of the nodes that run runners changed)"}},
		LastPass: stack.Pass{Time: now, Duration: 12 * time.Millisecond, Writes: 1}}}
	e := newEnv(t, func(c *dashboard.Config) { c.Swarm = obs })
	c := e.client(t)
	e.login(t, c)
	var p dashboard.SwarmPage
	getJSON(t, c, e.srv.URL+"/ui/api/swarm", &p)
	o := p.Observation
	if !p.Available || o == nil || len(o.Nodes) != 2 || o.Nodes[1].State != "down" || o.Nodes[0].NanoCPUs != 4e9 ||
		len(o.Tasks) != 2 || o.Services[0].Desired != 3 || o.Services[0].Running != 2 ||
		len(o.Actions) != 1 || !strings.Contains(o.Actions[0].Why, "replicas 2 -> 3") || o.LastPass.Writes != 1 {
		t.Fatalf("swarm view = %+v", p)
	}

	obs.err = errors.New("Cannot connect to the Docker daemon")
	time.Sleep(1100 * time.Millisecond) // past the view's sharing time
	getJSON(t, c, e.srv.URL+"/ui/api/swarm", &p)
	if p.Available || !strings.Contains(p.Reason, "Cannot connect") {
		t.Fatalf("observer failing: %+v", p)
	}

	plain := newEnv(t) // no Docker: the view says so
	pc := plain.client(t)
	plain.login(t, pc)
	var np dashboard.SwarmPage
	getJSON(t, pc, plain.srv.URL+"/ui/api/swarm", &np)
	if np.Available || np.Reason != dashboard.NoDockerReason || np.Observation != nil {
		t.Fatalf("without Docker: %+v", np)
	}
}

func TestQueueViewShowsDepthWorkersFailuresAndBuilds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.campaign(t, "demo", 10, api.CampaignStatus{Phase: api.PhaseRunning,
		Runs: api.RunCounts{Total: 10, Pending: 7, Failed: 2, Succeeded: 1}})
	runs := e.st.DB.Collection(schema.CollRuns)
	for i, tail := range map[int]string{3: "<!> Error: boom in run 3\n", 5: "<!> Error: division by zero\n"} {
		if _, err := runs.UpdateOne(ctx, bson.M{"_id": store.RunID("demo", c.Metadata.UID, i)}, bson.M{"$set": bson.M{
			"state": schema.RunFailed, "attempts": 3, "exitCode": 1, "stderrTail": tail, "message": "exit status 1",
			"worker": "node1-run-7", "updatedAt": time.Now().UTC().Add(-time.Duration(i) * time.Second)}}); err != nil {
			t.Fatal(err)
		}
	}
	ac := asynq.NewClientFromRedisClient(e.rdb)
	for i := 0; i < 3; i++ {
		if _, err := ac.Enqueue(asynq.NewTask(schema.TypeRun, []byte("{}")), asynq.Queue(schema.QueueRun), asynq.TaskID(fmt.Sprint("r", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ac.Enqueue(asynq.NewTask(schema.TypeRun, []byte("{}")), asynq.Queue(schema.QueueRun), asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}
	since := time.Now().UTC().Add(-90 * time.Second).Truncate(time.Second)
	for i := 0; i < 6; i++ {
		hb := heartbeat.Beat{Name: fmt.Sprintf("node%d-run-1", i), Role: "run", Slots: 2, Tasks: []string{}}
		if i < 2 {
			hb.Tasks, hb.Since = []string{fmt.Sprintf("demo run %d", i)}, since
		}
		if i == 5 { // a runner whose node's slot count is not published yet
			hb.Slots, hb.Waiting = 0, "waiting for the controller to publish this node's runner slots"
		}
		b, _ := json.Marshal(hb)
		if err := e.rdb.Set(ctx, heartbeat.Key(hb.Name), b, 30*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.EnsureBuild(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": "k1"}, bson.M{"$set": bson.M{
		"state": schema.BuildFailed, "logTail": "make: *** [all] Error 2"}}); err != nil {
		t.Fatal(err)
	}

	cl := e.client(t)
	e.login(t, cl)
	var p dashboard.QueuesPage
	waitFor(t, 10*time.Second, "failures indexed", func() (bool, string) {
		p = dashboard.QueuesPage{}
		getJSON(t, cl, e.srv.URL+"/ui/api/queues", &p)
		return len(p.Failures) == 2, fmt.Sprintf("%d failures", len(p.Failures))
	})
	byName := map[string]dashboard.QueueRow{}
	for _, q := range p.Queues {
		byName[q.Name] = q
	}
	if q := byName[schema.QueueRun]; q.Pending != 3 || q.Scheduled != 1 || q.Size != 4 {
		t.Errorf("run queue = %+v", q)
	}
	if q, ok := byName[schema.QueueBuild]; !ok || q.Size != 0 {
		t.Errorf("build queue (never used) = %+v %v", q, ok)
	}
	if p.WorkerCount != 6 || p.Totals.Slots != 10 || p.Totals.BusySlots != 2 || len(p.Workers) != 6 {
		t.Fatalf("workers: %d, totals %+v (a waiting runner has no slots)", p.WorkerCount, p.Totals)
	}
	if w := p.Workers[5]; w.Name != "node5-run-1" || w.Slots != 0 || !strings.Contains(w.Waiting, "waiting for the controller") {
		t.Errorf("waiting runner = %+v", w)
	}
	w := p.Workers[0]
	if w.Name != "node0-run-1" || w.Busy != 1 || w.Tasks[0] != "demo run 0" || w.Since == nil || !w.Since.Equal(since) {
		t.Errorf("worker 0 = %+v", w)
	}
	f := p.Failures[0]
	if f.Campaign != "demo" || f.Run != 3 || f.Attempts != 3 || !strings.Contains(f.StderrTail, "boom in run 3") || f.Worker != "node1-run-7" {
		t.Errorf("newest failure = %+v", f)
	}
	if len(p.Builds) != 1 || p.Builds[0].State != schema.BuildFailed || !strings.Contains(p.Builds[0].LogTail, "Error 2") {
		t.Errorf("builds = %+v", p.Builds)
	}
	if len(p.Campaigns) != 1 || p.Campaigns[0].Runs.Failed != 2 {
		t.Errorf("campaigns to manage = %+v", p.Campaigns)
	}
}

func TestCampaignPagePaginatesAndFiltersRunsFromTheIndex(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := time.Now().UTC().Add(-time.Minute)
	c := e.campaign(t, "demo", 120, api.CampaignStatus{Phase: api.PhaseRunning, StartTime: &start,
		Runs:       api.RunCounts{Total: 120, Succeeded: 40, Failed: 12, Running: 4, Pending: 64},
		Conditions: []api.Condition{{Type: api.ConditionReady, Status: api.ConditionFalse, Reason: "Running", Message: "running"}}})
	runs := e.st.DB.Collection(schema.CollRuns)
	fin := time.Now().UTC()
	if _, err := runs.UpdateMany(ctx, bson.M{"campaign": "demo", "run": bson.M{"$lt": 40}}, bson.M{"$set": bson.M{
		"state": schema.RunSucceeded, "durationMs": 3000, "finishedAt": fin, "attempts": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := runs.UpdateMany(ctx, bson.M{"campaign": "demo", "run": bson.M{"$gte": 100, "$lt": 112}}, bson.M{"$set": bson.M{
		"state": schema.RunFailed, "attempts": 3, "exitCode": 2, "message": "exit status 2"}}); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	e.login(t, cl)
	u := e.srv.URL + "/ui/api/campaigns/demo"
	var p dashboard.CampaignPage
	waitFor(t, 10*time.Second, "runs indexed", func() (bool, string) {
		p = dashboard.CampaignPage{}
		getJSON(t, cl, u, &p)
		return p.Runs.Indexed, fmt.Sprintf("%+v", p.Index)
	})
	if len(p.Runs.Items) != 50 || p.Runs.Items[0].Run != 0 || p.Runs.Next != 49 || p.Runs.Matching != 120 ||
		p.Runs.Items[0].State != schema.RunSucceeded || p.Runs.Items[0].DurationMS != 3000 {
		t.Fatalf("first page: next %d, matching %d, items %+v", p.Runs.Next, p.Runs.Matching, p.Runs.Items[:2])
	}
	cd := p.Campaign
	if cd.Progress != 52.0/120 || cd.Pace.MeanDurationMS != 3000 || cd.Pace.ETABasis != "durations" ||
		cd.Source != "https://example.org/m.git@abc" || cd.Reason != "Running" || cd.UID != c.Metadata.UID {
		t.Errorf("campaign detail = %+v", cd)
	}
	// 68 runs left × 3 s ÷ 4 running = 51 s.
	if cd.Pace.ETASeconds != 51 {
		t.Errorf("ETA %v, want 51s", cd.Pace.ETASeconds)
	}
	getJSON(t, cl, u+"?state=Failed&after=104&limit=5", &p)
	if p.Runs.Matching != 12 || len(p.Runs.Items) != 5 || p.Runs.Items[0].Run != 105 || p.Runs.Items[0].Attempts != 3 || p.Runs.Next != 109 {
		t.Fatalf("failed page: %+v", p.Runs)
	}
	getJSON(t, cl, u+"?after=110&limit=100000", &p)
	if len(p.Runs.Items) != 9 || p.Runs.Next != -1 || p.Runs.Limit != 500 {
		t.Fatalf("last page: %d items next %d limit %d", len(p.Runs.Items), p.Runs.Next, p.Runs.Limit)
	}
	for q, want := range map[string]int{"?state=Exploded": 400, "?after=x": 400, "?limit=1e3": 400} {
		if code, body, _ := get(t, cl, u+q); code != want {
			t.Errorf("GET %s: %d %s, want %d", q, code, body, want)
		}
	}
	if code, body, _ := get(t, cl, e.srv.URL+"/ui/api/campaigns/nope"); code != 404 || !strings.Contains(body, "not found") {
		t.Errorf("missing campaign: %d %s", code, body)
	}

	// Retry the failed runs through the API, as the page does.
	csrf := e.csrf(t, cl)
	code, body := do(t, cl, "POST", e.srv.URL+wire.Prefix+"/campaigns/demo/retry", map[string]string{"X-CSRF-Token": csrf})
	if code != 200 || !strings.Contains(body, "12 failed runs of demo sent back") {
		t.Fatalf("retry: %d %s", code, body)
	}
	counts, _ := e.st.RunCounts(ctx, "demo", c.Metadata.UID)
	if counts.Failed != 0 || counts.Pending != 80 {
		t.Fatalf("counts after retry: %+v", counts)
	}
	waitFor(t, 10*time.Second, "the index sees the retry", func() (bool, string) {
		getJSON(t, cl, u+"?state=Failed", &p)
		return p.Runs.Matching == 0, fmt.Sprint(p.Runs.Matching, " failed")
	})
}

// TestStreamPushesAViewWhenItChanges reads the live stream the page
// listens to: a first view at once, the next when the campaign changed.
func TestStreamPushesAViewWhenItChanges(t *testing.T) {
	e := newEnv(t)
	c := e.campaign(t, "demo", 10, api.CampaignStatus{Phase: api.PhaseRunning})
	cl := e.client(t)
	e.login(t, cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/ui/api/stream?view=overview", nil)
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	events := make(chan dashboard.Overview, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		ev := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && ev == "view":
				var o dashboard.Overview
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &o) == nil {
					events <- o
				}
			}
		}
		close(events)
	}()
	first := <-events
	if len(first.Campaigns) != 1 || first.Campaigns[0].Runs.Succeeded != 0 {
		t.Fatalf("first view: %+v", first.Campaigns)
	}
	st := c.Status
	st.Runs = api.RunCounts{Total: 10, Succeeded: 6, Running: 2, Pending: 2}
	if err := e.st.UpdateStatus(ctx, "demo", c.Metadata.UID, st, 1); err != nil {
		t.Fatal(err)
	}
	for o := range events {
		if o.Campaigns[0].Runs.Succeeded == 6 {
			if o.Campaigns[0].Progress != 0.6 {
				t.Errorf("progress %v, want 0.6", o.Campaigns[0].Progress)
			}
			return
		}
	}
	t.Fatal("the stream ended without showing the change")
}
