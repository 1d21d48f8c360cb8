package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/builder"
	"github.com/simswarm/simswarm/workers/jobs"
	"github.com/simswarm/simswarm/workers/runner"
	"github.com/simswarm/simswarm/workers/workdir"
)

// heartbeatEvery and heartbeatTTL: a worker's key disappears within a TTL
// of its death, so dashboards only list live workers.
const (
	heartbeatEvery = 10 * time.Second
	heartbeatTTL   = 30 * time.Second
)

func newWorkerCmd(g *globals) *cobra.Command {
	var (
		role, redisURL, mongoURI, cache, distccHosts, name string
		slots, prefetch                                    int
		shutdownGrace, distccWait                          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "worker --role build|run --redis URL --mongo URI",
		Short: "Run a builder or runner: take tasks from the queue and carry them out",
		Long: `A worker takes tasks from the Redis queue that the controller fills:

  --role run     executes simulation runs, --slots at a time: fetches the build
                 artifact once per key into --cache, runs the simulation with its
                 timeout, stores result files in MongoDB GridFS, records the outcome.
                 It also holds up to --prefetch tasks waiting for a slot, so that
                 a slot starts its next run while the last one's results are being
                 stored; runs stored at once share their database writes.
  --role build   builds a campaign's model once: git checkout or the uploaded
                 source archive, make -jN (through distcc when hosts are known:
                 --distcc-hosts, or the list the controller keeps in Redis),
                 then stores the artifacts under the build's content key.

Workers are disposable: SIGTERM hands unfinished tasks back to the queue; a
worker that dies has its task redelivered after its lease runs out; after a
Redis or MongoDB outage it reconnects by itself. Every flag can also be set
as SIMSWARM_<FLAG>, e.g. SIMSWARM_REDIS, SIMSWARM_SLOTS.

With --prefetch a task can wait behind a busy slot while another worker is
idle; that costs nothing with short runs and at most one run's time per task
at a campaign's end. For long runs of very uneven length, --prefetch 0.

Examples:
  simswarm worker --role run --slots 8 --redis redis://manager:6379/0 --mongo mongodb://manager:27017/simswarm
  simswarm worker --role build --distcc-hosts "node1 node2 node3"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd.Flags()); err != nil {
				return err
			}
			if role != "run" && role != "build" {
				return invalidInput(fmt.Errorf("--role: %q is not build or run", role))
			}
			if slots < 1 {
				return invalidInput(fmt.Errorf("--slots: %d is not a number of slots (must be at least 1)", slots))
			}
			if prefetch < 0 {
				prefetch = slots
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			if name == "" {
				host, _ := os.Hostname()
				name = fmt.Sprintf("%s-%s-%d", host, role, os.Getpid())
			}
			log = log.With(zap.String("worker", name), zap.String("role", role))
			return runWorker(cmd.Context(), workerConfig{
				role: role, redisURL: redisURL, mongoURI: mongoURI, cache: cache, distccHosts: distccHosts,
				name: name, slots: slots, prefetch: prefetch, grace: shutdownGrace, distccWait: distccWait,
			}, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "run", "build or run")
	f.StringVar(&redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis URL (the queue)")
	f.StringVar(&mongoURI, "mongo", "mongodb://127.0.0.1:27017/simswarm", "MongoDB URI (records and GridFS)")
	f.IntVar(&slots, "slots", 1, "tasks carried out at once (a runner: simulations, one per CPU it may use)")
	f.IntVar(&prefetch, "prefetch", -1, "with --role run: tasks held beyond --slots, waiting for a slot (-1: as many as --slots)")
	f.StringVar(&cache, "cache", filepath.Join(os.TempDir(), "simswarm-worker"), "directory for unpacked artifacts and work files")
	f.StringVar(&distccHosts, "distcc-hosts", "", "with --role build: distcc hosts when Redis holds no list (DISTCC_HOSTS syntax)")
	f.DurationVar(&distccWait, "distcc-wait", 0, "with --role build: how long a build waits for a distcc host list before compiling locally")
	f.StringVar(&name, "name", "", "worker name on records and heartbeats (default host-role-pid)")
	f.DurationVar(&shutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM, how long running tasks may finish before they are handed back")
	return cmd
}

type workerConfig struct {
	role, redisURL, mongoURI, cache, distccHosts, name string
	slots, prefetch                                    int
	grace, distccWait                                  time.Duration
}

func runWorker(ctx context.Context, cfg workerConfig, log *zap.Logger) error {
	ropt, err := redis.ParseURL(cfg.redisURL)
	if err != nil {
		return invalidInput(fmt.Errorf("--redis: %w", err))
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	client, db, err := schema.Connect(startCtx, cfg.mongoURI)
	cancel()
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck

	changed := func(ctx context.Context, campaign string) {
		if err := rdb.Publish(ctx, schema.ChangesChannel, campaign).Err(); err != nil {
			log.Debug("announce change failed", zap.String("campaign", campaign), zap.Error(err))
		}
	}
	hb := &heartbeat{rdb: rdb, name: cfg.name, role: cfg.role, slots: cfg.slots, tasks: map[int]string{}, log: log,
		poke: make(chan struct{}, 1)}
	mux := asynq.NewServeMux()
	queue, concurrency := schema.QueueRun, cfg.slots
	sub := map[bool]string{true: "runs", false: "builds"}[cfg.role == "run"]
	work, stale, err := workdir.Claim(filepath.Join(cfg.cache, sub))
	for _, p := range stale {
		log.Info("removed the work directory of a dead worker", zap.String("dir", p))
	}
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer work.Release() //nolint:errcheck
	if cfg.role == "run" {
		// Tasks beyond the slots: while a task stores its results, another
		// one's simulation holds the slot, and tasks storing at once share
		// the database commands (runner.Handler).
		concurrency = cfg.slots + cfg.prefetch
		h := &runner.Handler{DB: db, Cache: runner.NewCache(filepath.Join(cfg.cache, "artifacts"), db), Slots: cfg.slots,
			WorkDir: work.Path, Worker: cfg.name, Log: log, Track: hb.track, Changed: changed}
		mux.HandleFunc(schema.TypeRun, h.ProcessTask)
	} else {
		queue = schema.QueueBuild
		h := &builder.Handler{DB: db, Hosts: builder.RedisHosts{Client: rdb, Static: cfg.distccHosts}, HostsWait: cfg.distccWait,
			WorkDir: work.Path, Jobs: runtime.NumCPU(), Worker: cfg.name, Log: log, Track: hb.track, Changed: changed}
		mux.HandleFunc(schema.TypeBuild, h.ProcessTask)
	}
	// Its own connection for asynq, closed only after the server stopped.
	srv := asynq.NewServerFromRedisClient(redis.NewClient(ropt), asynq.Config{
		Concurrency:     concurrency,
		Queues:          map[string]int{queue: 1},
		ShutdownTimeout: cfg.grace,
		// A slot that found the queue empty looks again this soon (asynq's
		// default is 1 s): with short runs the controller's next refill is
		// usually a few hundred milliseconds away, and a second's nap per
		// slot was most of the no-op benchmark's time. An idle slot costs
		// Redis one dequeue script per interval.
		TaskCheckInterval: emptyQueueCheck,
		Logger:            log.Sugar(),
		LogLevel:          asynq.WarnLevel,
		// Infrastructure failures (Mongo down) retry soon, not after asynq's
		// default minutes-long backoff.
		RetryDelayFunc: func(n int, _ error, _ *asynq.Task) time.Duration {
			return min(time.Duration(n+1)*2*time.Second, 30*time.Second)
		},
	})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker started", zap.Int("slots", cfg.slots), zap.String("queue", queue))

	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); hb.loop(sigCtx) }()
	<-sigCtx.Done()
	log.Info("worker stopping: unfinished tasks go back to the queue")
	srv.Shutdown()
	<-hbDone
	delCtx, cancelDel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelDel()
	_ = rdb.Del(delCtx, schema.WorkerKey(cfg.name)).Err()
	return nil
}

// heartbeat publishes what the worker is doing under schema.WorkerKey, with
// a TTL so that a dead worker's entry expires.
type heartbeat struct {
	rdb         *redis.Client
	name, role  string
	slots       int
	mu          sync.Mutex
	next        int
	tasks       map[int]string
	since       time.Time
	log         *zap.Logger
	lastFailure bool
	// poke asks for a beat soon: a worker that was idle took a task.
	poke chan struct{}
}

// emptyQueueCheck is how often a slot that found the queue empty looks
// again.
const emptyQueueCheck = 100 * time.Millisecond

// pokeGap is the shortest time between two beats: a worker whose short
// runs keep leaving it idle does not beat on every run.
const pokeGap = time.Second

func (h *heartbeat) track(task string) func() {
	h.mu.Lock()
	id := h.next
	h.next++
	wasIdle := len(h.tasks) == 0
	h.tasks[id] = task
	h.since = time.Now().UTC()
	h.mu.Unlock()
	if wasIdle {
		// Say what it runs now rather than at the next periodic beat,
		// which may come after the run: the record is not written before
		// the outcome, so the heartbeat is where a run shows as started.
		select {
		case h.poke <- struct{}{}:
		default:
		}
	}
	return func() {
		h.mu.Lock()
		delete(h.tasks, id)
		h.mu.Unlock()
	}
}

func (h *heartbeat) loop(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		last := time.Now()
		h.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.poke:
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(last.Add(pokeGap))):
			}
		}
	}
}

func (h *heartbeat) beat(ctx context.Context) {
	h.mu.Lock()
	tasks := make([]string, 0, len(h.tasks))
	for _, t := range h.tasks {
		tasks = append(tasks, t)
	}
	since := h.since
	h.mu.Unlock()
	sort.Strings(tasks)
	// "task" is the contract's one-line summary; "tasks" lists each slot's.
	body, _ := json.Marshal(jobs.Heartbeat{Name: h.name, Role: h.role, Slots: h.slots,
		Task: strings.Join(tasks, ", "), Tasks: tasks, Since: since})
	err := h.rdb.Set(ctx, schema.WorkerKey(h.name), body, heartbeatTTL).Err()
	// Say it once per outage, not every 10 s.
	if err != nil && !errors.Is(err, context.Canceled) && !h.lastFailure {
		h.log.Warn("heartbeat failed", zap.Error(err))
	}
	h.lastFailure = err != nil
}
