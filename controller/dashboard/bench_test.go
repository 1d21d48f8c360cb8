package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// staticSwarm is a fixed observation (the Docker list calls' own cost is
// not the dashboard's).
type staticSwarm struct{ o *stack.Observation }

func (s staticSwarm) Observe(context.Context) (*stack.Observation, error) { return s.o, nil }

// BenchmarkDashboardPages measures the first view of every page — the
// page itself plus the JSON view it shows — at campaign scale: 100,000
// run records (SIMSWARM_BENCH_RUNS) in FerretDB, 200 workers with
// heartbeats in Redis, 200 swarm nodes with 16 tasks each. Views are not
// shared between iterations, so each op computes its view afresh.
// "index-scan" is one refresh of the run index (the background scan pages
// never wait for); "cold-campaign" is a campaign page served by a fresh
// dashboard that has not scanned yet.
func BenchmarkDashboardPages(b *testing.B) {
	nRuns := 100_000
	if v := os.Getenv("SIMSWARM_BENCH_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("SIMSWARM_BENCH_RUNS=%q: want a number of runs ≥ 1000", v)
		}
		nRuns = n
	}
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.StartMongo(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	rs := testdb.StartRedis(b)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()

	start := time.Now()
	big := seedCampaign(b, st, "big", nRuns)
	seedCampaign(b, st, "small-a", 500)
	seedCampaign(b, st, "small-b", 500)
	b.Logf("inserted %d run records in %v", nRuns+1000, time.Since(start).Round(time.Millisecond))
	for i := 0; i < 200; i++ {
		hb := heartbeat.Beat{Name: fmt.Sprintf("node%03d-run-1", i), Role: "run", Slots: 16, Since: time.Now().UTC()}
		for s := 0; s < 16; s++ {
			hb.Tasks = append(hb.Tasks, fmt.Sprintf("big run %d", i*16+s))
		}
		body, _ := json.Marshal(hb)
		if err := rdb.Set(ctx, heartbeat.Key(hb.Name), body, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
	}
	ac := asynq.NewClientFromRedisClient(rdb)
	for i := 0; i < 400; i++ {
		if _, err := ac.Enqueue(asynq.NewTask(schema.TypeRun, []byte("{}")), asynq.Queue(schema.QueueRun)); err != nil {
			b.Fatal(err)
		}
	}
	swarmObs := &stack.Observation{Stack: "simswarm"}
	for n := 0; n < 200; n++ {
		id := fmt.Sprint("node", n)
		swarmObs.Nodes = append(swarmObs.Nodes, stack.ObservedNode{ID: id, Hostname: id, Role: "worker", Availability: "active", State: "ready", NanoCPUs: 16e9, MemoryBytes: 64 << 30})
		for s := 0; s < 16; s++ {
			swarmObs.Tasks = append(swarmObs.Tasks, stack.ObservedTask{ID: fmt.Sprint(id, s), Service: "simswarm_runner", NodeID: id, Slot: n*16 + s + 1, State: "running"})
		}
	}
	swarmObs.Services = []stack.ObservedService{{Name: "simswarm_runner", Stack: true, Mode: "replicated", Desired: 3200, Running: 3200}}

	cfg := Config{Token: "bench-token-0123456789abcdef", Campaigns: st, Runs: st, Builds: st, Queues: asynq.NewInspectorFromRedisClient(rdb),
		Workers: heartbeat.Reader{Client: rdb}, Swarm: staticSwarm{swarmObs},
		// Views shared for at most half a millisecond: every op computes.
		StreamInterval: time.Millisecond}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := hc.PostForm(srv.URL+"/ui/login", url.Values{"token": {"bench-token-0123456789abcdef"}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()

	fetch := func(b *testing.B, path string) []byte {
		resp, err := hc.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %s %s", path, resp.Status, body)
		}
		return body
	}

	b.Run("index-scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			snap, err := s.index.build(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if snap.runs != nRuns+1000 {
				b.Fatalf("indexed %d runs, want %d", snap.runs, nRuns+1000)
			}
			s.index.snap.Store(snap)
		}
	})
	b.Run("cold-campaign", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			fresh, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			p, err := fresh.campaignPage(ctx, "big", "", -1, defaultPageSize)
			if err != nil || p.Runs.Indexed || p.Campaign.Runs.Total != int64(nRuns) {
				b.Fatalf("cold page: indexed %v, %d runs, %v", p.Runs.Indexed, p.Campaign.Runs.Total, err)
			}
		}
	})
	pages := []struct{ name, page, view string }{
		{"campaigns", "/ui/", "/ui/api/overview"},
		{"campaign", "/ui/campaigns/big", "/ui/api/campaigns/big"},
		{"campaign-failed-deep", "/ui/campaigns/big?state=Failed&after=" + strconv.Itoa(nRuns/2), "/ui/api/campaigns/big?state=Failed&after=" + strconv.Itoa(nRuns/2)},
		{"campaign-last-page", "/ui/campaigns/big?after=" + strconv.Itoa(nRuns-30), "/ui/api/campaigns/big?after=" + strconv.Itoa(nRuns-30)},
		{"queues", "/ui/queues", "/ui/api/queues"},
		{"swarm", "/ui/swarm", "/ui/api/swarm"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var bytes int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				time.Sleep(time.Millisecond) // past the view's sharing time
				b.StartTimer()
				fetch(b, p.page)
				bytes = len(fetch(b, p.view))
			}
			b.ReportMetric(float64(bytes), "view-bytes")
		})
	}
	// The pages showed what they should.
	var cp CampaignPage
	if err := json.Unmarshal(fetch(b, "/ui/api/campaigns/big?state=Failed"), &cp); err != nil || len(cp.Runs.Items) != defaultPageSize ||
		cp.Runs.Items[0].State != schema.RunFailed || cp.Runs.Matching != nRuns/100 {
		b.Fatalf("failed runs page: %d items, matching %d, %v", len(cp.Runs.Items), cp.Runs.Matching, err)
	}
	var qp QueuesPage
	if err := json.Unmarshal(fetch(b, "/ui/api/queues"), &qp); err != nil || qp.WorkerCount != 200 || qp.Totals.BusySlots != 3200 || len(qp.Failures) != maxFailures {
		b.Fatalf("queues page: %d workers, %d busy, %d failures, %v", qp.WorkerCount, qp.Totals.BusySlots, len(qp.Failures), err)
	}
	if big.Metadata.UID == "" {
		b.Fatal("no campaign")
	}
}

// seedCampaign stores a campaign with n runs in bulk, in a spread of
// states: 30% succeeded (with durations), 1% failed (with stderr tails),
// 3,200 running, 400 queued, the rest pending; and its status as the
// reconciler would count it.
func seedCampaign(b testing.TB, st *store.Store, name string, n int) *api.Campaign {
	ctx := context.Background()
	c, err := st.Create(ctx, &api.Campaign{Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.org/m.git", Commit: "abc"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Runs: "0.." + strconv.Itoa(n-1)}}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	var counts api.RunCounts
	coll := st.DB.Collection(schema.CollRuns)
	docs := make([]any, 0, 5000)
	flush := func() {
		if len(docs) == 0 {
			return
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		docs = docs[:0]
	}
	for i := 0; i < n; i++ {
		r := schema.RunRecord{ID: store.RunID(name, c.Metadata.UID, i), Campaign: name, UID: c.Metadata.UID, Run: i,
			State: schema.RunPending, UpdatedAt: now}
		switch {
		case i%100 == 1:
			r.State, r.Attempts, r.ExitCode, r.Worker = schema.RunFailed, 3, 1, "node007-run-1"
			r.StderrTail, r.Message = "<!> Error: assertion failed in Radio.cc:42\n", "exit status 1"
		case i < n*3/10:
			fin := now.Add(-time.Duration(n-i) * time.Millisecond)
			r.State, r.Attempts, r.DurationMS, r.FinishedAt, r.Worker = schema.RunSucceeded, 1, 42000, &fin, "node001-run-1"
		case i < n*3/10+min(3200, n/10):
			r.State, r.Attempts = schema.RunRunning, 1
		case i < n*3/10+min(3600, n/5):
			r.State = schema.RunQueued
		}
		switch r.State {
		case schema.RunPending:
			counts.Pending++
		case schema.RunQueued:
			counts.Queued++
		case schema.RunRunning:
			counts.Running++
		case schema.RunSucceeded:
			counts.Succeeded++
		case schema.RunFailed:
			counts.Failed++
		}
		docs = append(docs, r)
		if len(docs) == cap(docs) {
			flush()
		}
	}
	flush()
	counts.Total = int64(n)
	started := now.Add(-time.Hour)
	if err := st.UpdateStatus(ctx, name, c.Metadata.UID, api.CampaignStatus{Phase: api.PhaseRunning, ObservedGeneration: 1,
		Runs: counts, StartTime: &started}, 1); err != nil {
		b.Fatal(err)
	}
	return c
}
