package manager

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/apiserver"
	"github.com/simswarm/simswarm/controller/campaign"
	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/httpauth"
	"github.com/simswarm/simswarm/controller/leader"
	"github.com/simswarm/simswarm/controller/metrics"
	"github.com/simswarm/simswarm/controller/resultbackfill"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/heartbeat"
	"github.com/simswarm/simswarm/workers/runlist"
)

// Config configures a controller process.
type Config struct {
	Listen   string // API address, e.g. 127.0.0.1:8080
	RedisURL string // redis://host:port/db
	MongoURI string // mongodb://host:port/db
	Token    string // bearer token of the API
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client address that failed logins are counted against; none by
	// default (the connection's address counts).
	TrustedProxies []netip.Prefix

	// Identity names this instance in the leader lease. Default hostname+pid.
	Identity string
	// LeaseDuration of the leader lease. Default 15s.
	LeaseDuration time.Duration
	// Resync is the full-resync period. Default 30s.
	Resync time.Duration

	// Runnables are extra components, as if given to Add: those that need
	// no store (the stack reconciler). Those that need it (the manifest
	// sources) are added with Add after New, from Manager.Store.
	Runnables []Runnable

	// Swarm, if set, feeds the dashboard's swarm view: the stack
	// reconciler, when the controller runs as a stack's controller service.
	Swarm dashboard.SwarmObserver
	// Metrics is the registry served at /metrics; the caller may have
	// handed its reconcile hooks to a Runnable. Default: a new one.
	Metrics *metrics.Metrics

	Logger *zap.Logger
	// Ready, if set, receives the bound API address once serving.
	Ready chan<- string
}

// Manager is one controller process: it serves the API and the dashboard
// on every instance and, while it holds the leader lease, runs the
// campaign controller and the Runnables that need leadership.
type Manager struct {
	cfg  Config
	log  *zap.Logger
	rdb  *redis.Client
	st   *store.Store
	mtr  *metrics.Metrics
	dash *dashboard.Server
	srv  *apiserver.Server

	runnables []Runnable
	// notify is the leader's campaign controller's Enqueue while leading.
	notify atomic.Pointer[func(string)]
}

// Run runs the controller until ctx ends: New, then Start.
func Run(ctx context.Context, cfg Config) error {
	m, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	return m.Start(ctx)
}

// New checks cfg, connects to Redis and the store and builds the API and
// the dashboard. Start must follow: it closes the connections when it
// returns.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if err := httpauth.CheckToken(cfg.Token, "--token-file or SIMSWARM_TOKEN"); err != nil {
		return nil, err
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis %q: %w", cfg.RedisURL, err)
	}
	m := &Manager{cfg: cfg, log: log, rdb: redis.NewClient(ropt), mtr: cfg.Metrics,
		runnables: append([]Runnable(nil), cfg.Runnables...)}
	if err := m.build(ctx); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

func (m *Manager) build(ctx context.Context) error {
	cfg, log, rdb := m.cfg, m.log, m.rdb
	st, err := store.Open(ctx, cfg.MongoURI)
	if err != nil {
		return err
	}
	m.st = st
	// Runs with no result index (stored before indexing, or by a worker
	// that stopped in between) are indexed from GridFS while leading.
	m.runnables = append(m.runnables, &resultbackfill.Backfiller{Store: st, Log: log.Named("backfill")})
	if m.mtr == nil {
		m.mtr = metrics.New()
	}
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	workers := heartbeat.Reader{Client: rdb}
	if err := m.mtr.AddSources(metrics.Sources{Campaigns: st, Builds: st, Queues: inspector, Workers: workers}); err != nil {
		return err
	}
	// One budget of failed attempts per client address for the login, the
	// API and /metrics.
	lim := &httpauth.Limiter{TrustedProxies: cfg.TrustedProxies}
	// One cache of the builds' run lists (the runs' iteration variables)
	// for the API's and the dashboard's pages of runs.
	runLists := &runlist.Cache{DB: st.DB}
	m.dash, err = dashboard.New(dashboard.Config{Token: cfg.Token, Campaigns: st, Runs: st, Builds: st, Results: st, RunVars: runLists, Limiter: lim,
		Revocations: st,
		Queues:      inspector, Live: campaign.NewAsynqQueue(rdb), Workers: workers, Swarm: cfg.Swarm, Logger: log.Named("dashboard")})
	if err != nil {
		return err
	}
	m.srv = &apiserver.Server{Store: st, Token: cfg.Token, Logger: log.Named("api"), Session: m.dash.APISession,
		Limiter: lim, RunLists: runLists, Notify: m.Notify}
	return nil
}

func (m *Manager) close() {
	if m.st != nil {
		_ = m.st.Close(context.Background())
	}
	_ = m.rdb.Close()
}

// Store is the controller's store, for Runnables that apply campaigns.
func (m *Manager) Store() *store.Store { return m.st }

// Notify says that campaign name changed: the dashboard refreshes, and the
// leader's campaign controller reconciles it soon (on a standby, through
// Redis; best effort, as the leader's resync catches up otherwise).
func (m *Manager) Notify(name string) {
	m.dash.Changed(name)
	if f := m.notify.Load(); f != nil {
		(*f)(name)
		return
	}
	pctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := m.rdb.Publish(pctx, ChangesChannel, schema.ChangeAnnouncement(name)).Err(); err != nil {
		m.log.Debug("publishing campaign change failed", zap.Error(err))
	}
}

// Add registers r before Start: to run while leading, or always when it
// implements LeaderElectionRunnable with NeedLeaderElection false.
func (m *Manager) Add(r Runnable) { m.runnables = append(m.runnables, r) }

// Start serves the API and runs leader election until ctx ends, then
// stops every component, waits for them and closes the connections.
func (m *Manager) Start(ctx context.Context) error {
	defer m.close()
	cfg, log := m.cfg, m.log
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{Handler: Routes(m.srv.Handler(), m.dash, m.mtr.Handler()), ReadHeaderTimeout: 10 * time.Second}
	var all, leading []Runnable
	all = append(all, always(func(ctx context.Context) error { return serve(ctx, hs, ln) }),
		always(func(ctx context.Context) error { m.dash.Run(ctx); return nil }))
	for _, r := range m.runnables {
		if needsLeader(r) {
			leading = append(leading, r)
		} else {
			all = append(all, r)
		}
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() { defer close(done); startAll(actx, all, log) }()
	log.Info("controller api listening", zap.String("addr", ln.Addr().String()))
	if cfg.Ready != nil {
		cfg.Ready <- ln.Addr().String()
	}

	identity := cfg.Identity
	if identity == "" {
		h, _ := os.Hostname()
		identity = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	el := &leader.Elector{Client: m.rdb, Identity: identity, LeaseDuration: cfg.LeaseDuration, Logger: log.Named("leader"),
		EpochFloor: m.st.MaxEpoch,
		Callbacks: leader.Callbacks{
			OnStartedLeading: func(lctx context.Context, epoch int64) { m.lead(lctx, epoch, leading) },
			OnStoppedLeading: func() { log.Info("not leading; standing by") },
		}}
	err = el.Run(ctx)
	stop()
	<-done
	return err
}

// serve serves the API until ctx ends. The dashboard's live streams end
// with the same ctx, so Shutdown only waits for ordinary requests.
func serve(ctx context.Context, hs *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if hs.Shutdown(sctx) != nil {
		_ = hs.Close()
	}
	<-errc
	return nil
}

// Routes serves, on one listener: the dashboard under /ui/ (and / sends
// browsers there), /metrics (API token as bearer token, or a dashboard
// session), and the API everywhere else.
func Routes(apiHandler http.Handler, dash *dashboard.Server, metricsHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ui/", dash.Handler())
	mux.Handle("GET /metrics", dash.Protect(metricsHandler))
	mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusSeeOther))
	mux.Handle("/", apiHandler)
	return mux
}

// lead runs, for one term of leadership, the campaign controller (fenced by
// epoch), the announcements of workers and standbys, and the runnables
// that need leadership; it returns when ctx ends and they all stopped.
func (m *Manager) lead(ctx context.Context, epoch int64, runnables []Runnable) {
	cfg, st, rdb, log := m.cfg, m.st, m.rdb, m.log
	if err := st.ClaimEpoch(ctx, epoch); err != nil {
		log.Error("cannot claim leader epoch; not reconciling", zap.Int64("epoch", epoch), zap.Error(err))
		<-ctx.Done()
		return
	}
	log.Info("leading", zap.Int64("epoch", epoch))
	tasks := campaign.NewAsynqQueue(rdb)
	rec := &campaign.Reconciler{Store: st, Tasks: tasks, Shares: campaign.NewShares(campaign.WindowFor(0)),
		Epoch: epoch, Logger: log.Named("campaign"),
		Expander: &campaign.SpecExpander{Store: st, RequestRuns: tasks.EnqueueRunsQuery}}
	ctl := &campaign.Controller{Reconciler: rec, Resync: cfg.Resync, Logger: log.Named("campaign"),
		OnReconcile: m.mtr.ObserveReconcile(metrics.ReconcilerCampaign),
		WorkerCount: clusterSlots(heartbeat.Reader{Client: rdb}.RunSlots, publishedSlots(rdb))}
	f := ctl.Enqueue
	m.notify.Store(&f)
	defer m.notify.Store(nil)
	announced := RunnableFunc(func(ctx context.Context) error {
		// Changes made through the API of standby instances, and runs and
		// builds that workers finished.
		sub := rdb.Subscribe(ctx, ChangesChannel)
		defer sub.Close()
		ch := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return nil
			case msg, ok := <-ch:
				if !ok {
					return nil
				}
				ctl.Announced(msg.Payload)
			}
		}
	})
	startAll(ctx, append([]Runnable{ctl, announced}, runnables...), log)
}

// ChangesChannel is where standbys and workers announce changed campaigns.
const ChangesChannel = schema.ChangesChannel
