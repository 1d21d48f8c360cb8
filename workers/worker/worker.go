package worker

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/builder"
	"github.com/simswarm/simswarm/workers/dbgate"
	"github.com/simswarm/simswarm/workers/heartbeat"
	"github.com/simswarm/simswarm/workers/runner"
	"github.com/simswarm/simswarm/workers/workdir"
)

// defaultSlotsCheck is how often a runner sized by its node reads its
// node's slot count.
const defaultSlotsCheck = 5 * time.Second

// connectTimeout bounds the first connection to MongoDB.
const connectTimeout = 30 * time.Second

// emptyQueueCheck is how often a slot that found the queue empty looks
// again (asynq's default is 1 s): with short runs the controller's next
// refill is usually a few hundred milliseconds away, and a second's nap
// per slot was most of the no-op benchmark's time. An idle slot costs
// Redis one dequeue script per interval.
const emptyQueueCheck = 100 * time.Millisecond

// retryDelay is how soon a task whose handler failed (MongoDB down, an
// artifact not fetched) is tried again: soon, not after asynq's default
// minutes-long backoff.
func retryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	return min(time.Duration(n+1)*2*time.Second, 30*time.Second)
}

// Run runs a worker until ctx ends, then stops it in order (see the
// package documentation). It returns an error only when the worker could
// not start.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	log := cfg.Log
	rdb := redis.NewClient(cfg.Redis)
	defer rdb.Close()
	startCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	client, db, err := schema.Connect(startCtx, cfg.MongoURI)
	cancel()
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck

	sub := map[Role]string{RoleRun: "runs", RoleBuild: "builds"}[cfg.Role]
	work, stale, err := workdir.Claim(filepath.Join(cfg.Cache, sub))
	for _, p := range stale {
		log.Info("removed the work directory of a dead worker", zap.String("dir", p))
	}
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer work.Release() //nolint:errcheck

	changed := func(ctx context.Context, campaign string) {
		if err := rdb.Publish(ctx, schema.ChangesChannel, campaign).Err(); err != nil {
			log.Debug("announce change failed", zap.String("campaign", campaign), zap.Error(err))
		}
	}
	hb := heartbeat.NewWriter(rdb, cfg.Name, string(cfg.Role), cfg.Slots, log)
	cache := runner.NewCache(filepath.Join(cfg.Cache, "artifacts"), db)
	// Its own connection for the queue, closed once the server stopped
	// (asynq leaves a client it was given open, so a re-sized runner's
	// next server uses it too).
	qdb := redis.NewClient(cfg.Redis)
	defer qdb.Close()
	// serve starts a queue server with slots slots and prefetch tasks
	// beyond them.
	serve := func(slots, prefetch int) (*asynq.Server, error) {
		mux := asynq.NewServeMux()
		queue := schema.QueueRun
		if cfg.Role == RoleRun {
			h := &runner.Handler{DB: db, Cache: cache, Slots: slots,
				WorkDir: work.Path, Worker: cfg.Name, Log: log, Track: hb.Track, Changed: changed, Exec: cfg.Exec,
				Gate: &dbgate.Gate{Client: rdb, Key: schema.DBWritersKey}}
			mux.HandleFunc(schema.TypeRun, h.ProcessTask)
		} else {
			queue = schema.QueueBuild
			h := &builder.Handler{DB: db, Hosts: builder.RedisHosts{Client: rdb, Static: cfg.DistccHosts}, HostsWait: cfg.DistccWait,
				WorkDir: work.Path, Jobs: runtime.NumCPU(), Worker: cfg.Name, Log: log, Track: hb.Track, Changed: changed}
			mux.HandleFunc(schema.TypeBuild, h.ProcessTask)
		}
		srv := asynq.NewServerFromRedisClient(qdb, asynq.Config{
			// Tasks beyond the slots: while a task stores its results, another
			// one's simulation holds the slot, and tasks storing at once share
			// the database commands (runner.Handler).
			Concurrency:       slots + prefetch,
			Queues:            map[string]int{queue: 1},
			ShutdownTimeout:   cfg.ShutdownGrace,
			TaskCheckInterval: emptyQueueCheck,
			Logger:            log.Sugar(),
			LogLevel:          asynq.WarnLevel,
			RetryDelayFunc:    retryDelay,
		})
		if err := srv.Start(mux); err != nil {
			return nil, fmt.Errorf("start worker: %w", err)
		}
		log.Info("worker started", zap.Int("slots", slots), zap.Int("prefetch", prefetch), zap.String("queue", queue))
		return srv, nil
	}

	hbDone := make(chan struct{})
	if cfg.NodeID != "" {
		go func() { defer close(hbDone); hb.Run(ctx) }()
		sizeByNode(ctx, cfg, rdb, hb, serve)
	} else {
		srv, err := serve(cfg.Slots, cfg.Prefetch)
		if err != nil {
			return err
		}
		if cfg.Ready != nil {
			close(cfg.Ready)
		}
		go func() { defer close(hbDone); hb.Run(ctx) }()
		<-ctx.Done()
		log.Info("worker stopping: unfinished tasks go back to the queue")
		srv.Shutdown()
	}
	<-hbDone
	// Gone from the dashboard at once, not a TTL later.
	delCtx, cancelDel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelDel()
	_ = hb.Withdraw(delCtx)
	return nil
}
