package manager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
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
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/controller/workqueue"
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

	// Sources are extra components run while this instance leads (e.g. the
	// manifest directory source); they get the store and a notify func.
	Sources []Source

	// Swarm, if set, feeds the dashboard's swarm view: the stack
	// reconciler, when the controller runs as a stack's controller service.
	Swarm dashboard.SwarmObserver
	// Metrics is the registry served at /metrics; the caller may have
	// handed its reconcile hooks to a Source. Default: a new one.
	Metrics *metrics.Metrics

	Logger *zap.Logger
	// Ready, if set, receives the bound API address once serving.
	Ready chan<- string
}

// Source is a desired-state source run on the leader.
type Source interface {
	Run(ctx context.Context, st *store.Store, notify func(name string)) error
}

// Run runs the controller until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if err := httpauth.CheckToken(cfg.Token, "--token-file or SIMSWARM_TOKEN"); err != nil {
		return err
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("--redis %q: %w", cfg.RedisURL, err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	st, err := store.Open(ctx, cfg.MongoURI)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())

	mtr := cfg.Metrics
	if mtr == nil {
		mtr = metrics.New()
	}
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	workers := heartbeat.Reader{Client: rdb}
	if err := mtr.AddSources(metrics.Sources{Campaigns: st, Builds: st, Queues: inspector, Workers: workers}); err != nil {
		return err
	}
	// One budget of failed attempts per client address for the login, the
	// API and /metrics.
	lim := &httpauth.Limiter{TrustedProxies: cfg.TrustedProxies}
	// One cache of the builds' run lists (the runs' iteration variables)
	// for the API's and the dashboard's pages of runs.
	runLists := &runlist.Cache{DB: st.DB}
	dash, err := dashboard.New(dashboard.Config{Token: cfg.Token, Campaigns: st, Runs: st, Builds: st, Results: st, RunVars: runLists, Limiter: lim,
		Revocations: st,
		Queues:      inspector, Live: campaign.NewAsynqQueue(rdb), Workers: workers, Swarm: cfg.Swarm, Logger: log.Named("dashboard")})
	if err != nil {
		return err
	}

	var notify atomic.Pointer[func(string)]
	srv := &apiserver.Server{Store: st, Token: cfg.Token, Logger: log.Named("api"), Session: dash.APISession, Limiter: lim, RunLists: runLists,
		Notify: func(name string) {
			dash.Changed(name)
			if f := notify.Load(); f != nil {
				(*f)(name)
				return
			}
			// Not leading: tell the leader through Redis (best effort; its
			// resync catches up otherwise).
			pctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := rdb.Publish(pctx, ChangesChannel, name).Err(); err != nil {
				log.Debug("publishing campaign change failed", zap.Error(err))
			}
		}}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{Handler: Routes(srv.Handler(), dash, mtr.Handler()), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("api server failed", zap.Error(err))
		}
	}()
	dctx, stopDash := context.WithCancel(ctx)
	defer stopDash()
	go func() { defer wg.Done(); dash.Run(dctx) }()
	log.Info("controller api listening", zap.String("addr", ln.Addr().String()))
	if cfg.Ready != nil {
		cfg.Ready <- ln.Addr().String()
	}

	identity := cfg.Identity
	if identity == "" {
		h, _ := os.Hostname()
		identity = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	el := &leader.Elector{Client: rdb, Identity: identity, LeaseDuration: cfg.LeaseDuration, Logger: log.Named("leader"),
		EpochFloor: st.MaxEpoch,
		Callbacks: leader.Callbacks{
			OnStartedLeading: func(lctx context.Context, epoch int64) {
				lead(lctx, cfg, st, rdb, epoch, &notify, mtr, log)
			},
			OnStoppedLeading: func() { log.Info("not leading; standing by") },
		}}
	err = el.Run(ctx)
	stopDash()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// stopDash ended the dashboard's live streams, so Shutdown only waits
	// for ordinary requests.
	if hs.Shutdown(sctx) != nil {
		_ = hs.Close()
	}
	wg.Wait()
	return err
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

func lead(ctx context.Context, cfg Config, st *store.Store, rdb *redis.Client, epoch int64, notify *atomic.Pointer[func(string)], mtr *metrics.Metrics, log *zap.Logger) {
	if err := st.ClaimEpoch(ctx, epoch); err != nil {
		log.Error("cannot claim leader epoch; not reconciling", zap.Int64("epoch", epoch), zap.Error(err))
		<-ctx.Done()
		return
	}
	log.Info("leading", zap.Int64("epoch", epoch))
	q := workqueue.New(workqueue.Options{BaseDelay: 200 * time.Millisecond, MaxDelay: time.Minute})
	tasks := campaign.NewAsynqQueue(rdb)
	rec := &campaign.Reconciler{Store: st, Tasks: tasks, Shares: campaign.NewShares(campaign.WindowFor(0)),
		Epoch: epoch, Logger: log.Named("campaign"),
		Expander: &campaign.SpecExpander{Store: st, RequestRuns: tasks.EnqueueRunsQuery}}
	ctl := &campaign.Controller{Reconciler: rec, Queue: q, Resync: cfg.Resync, Logger: log.Named("campaign"),
		OnReconcile: mtr.ObserveReconcile(metrics.ReconcilerCampaign),
		WorkerCount: heartbeat.Reader{Client: rdb}.RunSlots}
	f := ctl.Enqueue
	notify.Store(&f)
	defer notify.Store(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Changes made through the API of standby instances, and runs and
		// builds that workers finished.
		sub := rdb.Subscribe(ctx, ChangesChannel)
		defer sub.Close()
		ch := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				ctl.Announced(m.Payload)
			}
		}
	}()
	for _, src := range cfg.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := src.Run(ctx, st, ctl.Enqueue); err != nil && ctx.Err() == nil {
				log.Error("manifest source stopped", zap.Error(err))
			}
		}()
	}
	ctl.Run(ctx)
	wg.Wait()
}

// ChangesChannel is where standbys and workers announce changed campaigns.
const ChangesChannel = schema.ChangesChannel
