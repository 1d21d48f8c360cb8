package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// Narrow fakes: these tests check the mapping from sources to metrics;
// the real sources (FerretDB, Redis) are scraped in the dashboard's
// TestPageWritesNeedTheCSRFTokenAndMetricsTakeTheBearerToken.

type campaigns []*api.Campaign

func (c campaigns) List(context.Context) ([]*api.Campaign, error) { return c, nil }

type queues struct {
	known []string
	info  map[string]*asynq.QueueInfo
	err   error
}

func (q queues) Queues() ([]string, error) { return q.known, q.err }
func (q queues) GetQueueInfo(name string) (*asynq.QueueInfo, error) {
	return q.info[name], nil
}

type workers struct {
	hbs []heartbeat.Beat
	err error
}

func (w workers) Heartbeats(context.Context) ([]heartbeat.Beat, error) { return w.hbs, w.err }

func scrapeText(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, l+"\n") {
			t.Errorf("missing %q in\n%s", l, body)
		}
	}
}

func TestScrapeReportsRunsQueuesWorkersAndCacheHits(t *testing.T) {
	m := New()
	cs := campaigns{
		{Metadata: api.ObjectMeta{Name: "a"}, Status: api.CampaignStatus{Phase: api.PhaseRunning,
			Runs: api.RunCounts{Total: 10, Succeeded: 6, Failed: 1, Running: 3}, Build: api.BuildStatus{CacheHit: true}}},
		{Metadata: api.ObjectMeta{Name: "b"}},
	}
	q := queues{known: []string{schema.QueueRun}, info: map[string]*asynq.QueueInfo{
		schema.QueueRun: {Pending: 32, Active: 8, Retry: 1, Latency: 1500 * time.Millisecond}}}
	w := workers{hbs: []heartbeat.Beat{{Name: "r1", Role: "run", Slots: 4, Tasks: []string{"a run 1", "a run 2"}},
		{Name: "r2", Role: "run", Slots: 4}, {Name: "b1", Role: "build", Slots: 1}}}
	if err := m.AddSources(Sources{Campaigns: cs, Queues: q, Workers: w}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddSources(Sources{Campaigns: cs}); err == nil {
		t.Error("a second AddSources was accepted")
	}
	obs := m.ObserveReconcile(ReconcilerCampaign)
	obs(20*time.Millisecond, nil)
	obs(3*time.Second, errors.New("store down"))
	obs(time.Millisecond, context.Canceled) // shutting down: not an error
	m.ObserveReconcile(ReconcilerStack)(40*time.Millisecond, nil)

	wantLines(t, scrapeText(t, m),
		`simswarm_campaign_runs{campaign="a",state="succeeded"} 6`,
		`simswarm_campaign_runs{campaign="a",state="running"} 3`,
		`simswarm_campaign_runs{campaign="b",state="pending"} 0`,
		`simswarm_campaigns{phase="running"} 1`,
		`simswarm_campaigns{phase="pending"} 1`,
		`simswarm_campaign_build_cache_hit{campaign="a"} 1`,
		`simswarm_build_cache_hits 1`,
		`simswarm_queue_tasks{queue="run",state="pending"} 32`,
		`simswarm_queue_tasks{queue="run",state="active"} 8`,
		`simswarm_queue_tasks{queue="build",state="pending"} 0`,
		`simswarm_queue_latency_seconds{queue="run"} 1.5`,
		`simswarm_workers{role="run"} 2`,
		`simswarm_worker_slots{role="run"} 8`,
		`simswarm_worker_busy_slots{role="run"} 2`,
		`simswarm_workers{role="build"} 1`,
		`simswarm_reconcile_duration_seconds_count{reconciler="campaign"} 3`,
		`simswarm_reconcile_duration_seconds_bucket{reconciler="campaign",le="0.05"} 2`,
		`simswarm_reconcile_errors_total{reconciler="campaign"} 1`,
		`simswarm_reconcile_duration_seconds_count{reconciler="stack"} 1`,
		`simswarm_source_up{source="queues"} 1`,
		`simswarm_source_up{source="workers"} 1`,
	)
}

func TestAFailingSourceIsDownNotAFailedScrape(t *testing.T) {
	m := New()
	if err := m.AddSources(Sources{}); err == nil {
		t.Fatal("sources without campaigns were accepted")
	}
	if err := m.AddSources(Sources{Campaigns: campaigns{}, Queues: queues{err: errors.New("redis: connection refused")},
		Workers: workers{err: errors.New("redis: connection refused")}}); err != nil {
		t.Fatal(err)
	}
	body := scrapeText(t, m)
	wantLines(t, body, `simswarm_source_up{source="queues"} 0`, `simswarm_source_up{source="workers"} 0`,
		`simswarm_source_up{source="campaigns"} 1`)
	if strings.Contains(body, "simswarm_queue_tasks{") {
		t.Error("queue depth reported although the queue could not be read")
	}
}
