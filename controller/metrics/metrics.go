package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// Campaigns lists the campaign objects (their status holds the
// reconciler's aggregated run counts). *store.Store satisfies it.
type Campaigns interface {
	List(ctx context.Context) ([]*api.Campaign, error)
}

// Builds lists the build records. *store.Store satisfies it.
type Builds interface {
	Builds(ctx context.Context) ([]schema.BuildRecord, error)
}

// QueueInspector reports a queue's depth. *asynq.Inspector satisfies it.
type QueueInspector interface {
	// Queues lists the queues that ever held a task.
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// Workers lists the live workers' heartbeats.
type Workers interface {
	Heartbeats(ctx context.Context) ([]heartbeat.Beat, error)
}

// Sources are what a scrape reads. Campaigns is required; a nil source's
// metrics are left out (and its simswarm_source_up is 0).
type Sources struct {
	Campaigns Campaigns
	Builds    Builds
	Queues    QueueInspector
	// QueueNames are the queues reported; default build and run.
	QueueNames []string
	Workers    Workers
	// Timeout bounds one scrape's reads. Default 5s.
	Timeout time.Duration
}

// Metrics is the controller's Prometheus registry.
type Metrics struct {
	reg          *prometheus.Registry
	reconcile    *prometheus.HistogramVec
	reconcileErr *prometheus.CounterVec
}

// Names of the reconcilers in simswarm_reconcile_* labels.
const (
	ReconcilerCampaign = "campaign"
	ReconcilerStack    = "stack"
)

// New builds a registry with the Go and process collectors and the
// reconcile histograms and counters (fed through ObserveReconcile). The
// scrape-time gauges come with AddSources, once the sources are open.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(),
		reconcile: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "simswarm_reconcile_duration_seconds",
			Help: "How long one reconcile took (campaign: one campaign; stack: one pass over the swarm).",
			// From a converged small campaign (ms) to a 100k-run recount on
			// FerretDB (seconds).
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"reconciler"}),
		reconcileErr: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simswarm_reconcile_errors_total",
			Help: "Reconciles that failed (and were retried).",
		}, []string{"reconciler"}),
	}
	for _, r := range []string{ReconcilerCampaign, ReconcilerStack} {
		m.reconcile.WithLabelValues(r)
		m.reconcileErr.WithLabelValues(r)
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.reconcile, m.reconcileErr)
	return m
}

// AddSources adds the gauges read from src at every scrape; once per
// registry (a second call fails).
func (m *Metrics) AddSources(src Sources) error {
	if src.Campaigns == nil {
		return errors.New("metrics: Sources.Campaigns is required")
	}
	if src.Timeout <= 0 {
		src.Timeout = 5 * time.Second
	}
	if len(src.QueueNames) == 0 {
		src.QueueNames = []string{schema.QueueBuild, schema.QueueRun}
	}
	if err := m.reg.Register(&scrape{src: src}); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// ObserveReconcile returns the hook a reconciler calls after each
// reconcile (campaign.Controller.OnReconcile, stack.Config.OnPass).
func (m *Metrics) ObserveReconcile(reconciler string) func(took time.Duration, err error) {
	h := m.reconcile.WithLabelValues(reconciler)
	c := m.reconcileErr.WithLabelValues(reconciler)
	return func(took time.Duration, err error) {
		h.Observe(took.Seconds())
		if err != nil && !errors.Is(err, context.Canceled) {
			c.Inc()
		}
	}
}

// Handler serves the registry in the Prometheus text format. It does no
// authentication: mount it behind the controller's token check.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the underlying registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

var (
	descUp = prometheus.NewDesc("simswarm_source_up",
		"Whether the last scrape could read the source (campaigns, builds, queues, workers).", []string{"source"}, nil)
	descCampaigns = prometheus.NewDesc("simswarm_campaigns",
		"Campaigns by phase.", []string{"phase"}, nil)
	descRuns = prometheus.NewDesc("simswarm_campaign_runs",
		"A campaign's runs by state, as the reconciler last counted them.", []string{"campaign", "state"}, nil)
	descCacheHit = prometheus.NewDesc("simswarm_campaign_build_cache_hit",
		"1 when the campaign's build artifact came from the build cache (same source, recipe and image built before).", []string{"campaign"}, nil)
	descCacheHits = prometheus.NewDesc("simswarm_build_cache_hits",
		"Campaigns whose build was a cache hit.", nil, nil)
	descBuilds = prometheus.NewDesc("simswarm_builds",
		"Build records (one per content key) by state.", []string{"state"}, nil)
	descQueue = prometheus.NewDesc("simswarm_queue_tasks",
		"Tasks in a queue by state (asynq).", []string{"queue", "state"}, nil)
	descLatency = prometheus.NewDesc("simswarm_queue_latency_seconds",
		"Age of the oldest pending task of a queue.", []string{"queue"}, nil)
	descWorkers = prometheus.NewDesc("simswarm_workers",
		"Live workers (fresh heartbeats) by role.", []string{"role"}, nil)
	descSlots = prometheus.NewDesc("simswarm_worker_slots",
		"Task slots of the live workers by role.", []string{"role"}, nil)
	descBusy = prometheus.NewDesc("simswarm_worker_busy_slots",
		"Slots of the live workers that hold a task, by role.", []string{"role"}, nil)
)

// scrape reads the sources at every scrape: a handful of small reads
// (campaign objects, build records, two queue summaries, one SCAN+MGET of
// heartbeats), never the run records.
type scrape struct{ src Sources }

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descCampaigns, descRuns, descCacheHit, descCacheHits, descBuilds,
		descQueue, descLatency, descWorkers, descSlots, descBusy} {
		ch <- d
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func up(ch chan<- prometheus.Metric, source string, err error) {
	v := 1.0
	if err != nil {
		v = 0
	}
	gauge(ch, descUp, v, source)
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), s.src.Timeout)
	defer cancel()
	s.campaigns(ctx, ch)
	if s.src.Builds != nil {
		bs, err := s.src.Builds.Builds(ctx)
		up(ch, "builds", err)
		if err == nil {
			byState := map[string]int{schema.BuildPending: 0, schema.BuildRunning: 0, schema.BuildSucceeded: 0, schema.BuildFailed: 0}
			for _, b := range bs {
				byState[b.State]++
			}
			for st, n := range byState {
				gauge(ch, descBuilds, float64(n), strings.ToLower(st))
			}
		}
	}
	if s.src.Queues != nil {
		known, qerr := s.src.Queues.Queues()
		for _, q := range s.src.QueueNames {
			if qerr != nil {
				break
			}
			info, err := &asynq.QueueInfo{}, error(nil) // a queue never used yet is empty
			if slices.Contains(known, q) {
				info, err = s.src.Queues.GetQueueInfo(q)
			}
			if err != nil {
				qerr = err
				continue
			}
			for st, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
				"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
				gauge(ch, descQueue, float64(n), q, st)
			}
			gauge(ch, descLatency, info.Latency.Seconds(), q)
		}
		up(ch, "queues", qerr)
	}
	if s.src.Workers != nil {
		hbs, err := s.src.Workers.Heartbeats(ctx)
		up(ch, "workers", err)
		if err == nil {
			n, slots, busy := map[string]int{"run": 0, "build": 0}, map[string]int{"run": 0, "build": 0}, map[string]int{"run": 0, "build": 0}
			for _, hb := range hbs {
				n[hb.Role]++
				slots[hb.Role] += hb.ActiveSlots()
				busy[hb.Role] += len(hb.Tasks)
			}
			for role := range n {
				gauge(ch, descWorkers, float64(n[role]), role)
				gauge(ch, descSlots, float64(slots[role]), role)
				gauge(ch, descBusy, float64(busy[role]), role)
			}
		}
	}
}

func (s *scrape) campaigns(ctx context.Context, ch chan<- prometheus.Metric) {
	cs, err := s.src.Campaigns.List(ctx)
	up(ch, "campaigns", err)
	if err != nil {
		return
	}
	phases := map[string]int{}
	for _, p := range []string{api.PhasePending, api.PhaseBuilding, api.PhaseRunning, api.PhaseSucceeded, api.PhaseFailed, api.PhaseSuspended} {
		phases[p] = 0
	}
	hits := 0
	for _, c := range cs {
		st := c.Status
		phase := st.Phase
		if phase == "" {
			phase = api.PhasePending
		}
		phases[phase]++
		name := c.Metadata.Name
		for state, v := range map[string]int64{"pending": st.Runs.Pending, "queued": st.Runs.Queued, "running": st.Runs.Running,
			"succeeded": st.Runs.Succeeded, "failed": st.Runs.Failed} {
			gauge(ch, descRuns, float64(v), name, state)
		}
		hit := 0.0
		if st.Build.CacheHit {
			hit = 1
			hits++
		}
		gauge(ch, descCacheHit, hit, name)
	}
	for p, n := range phases {
		gauge(ch, descCampaigns, float64(n), strings.ToLower(p))
	}
	gauge(ch, descCacheHits, float64(hits))
}
