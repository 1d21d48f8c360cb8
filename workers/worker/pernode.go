package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// What a runner sized by its node says while it takes no tasks.
const (
	waitUnpublished = "waiting for the controller to publish this node's runner slots"
	waitNoSlots     = "this node has no runner slots now (drained, paused, down, or fewer CPUs than one slot reserves)"
)

// nodeSlots reads the slot count published for node; ok is false when
// there is none.
func nodeSlots(ctx context.Context, rdb redis.Cmdable, node string) (n int, ok bool, err error) {
	v, err := rdb.HGet(ctx, schema.RunnerSlotsKey, node).Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	n, err = schema.ParseNodeSlots(v)
	return n, err == nil, err
}

// sizeByNode runs the queue server of a runner with as many slots as
// the count published for its node, until ctx ends. Before a count is
// published, and while it is 0, the runner runs no server (it takes no
// tasks) and its heartbeat says why; it never guesses a count. When the
// count changes, the server is shut down (its running tasks get the
// shutdown grace, then go back to the queue) and a new one started with
// the new count: asynq's concurrency is fixed per server, and keeping the
// process keeps its database connections, artifact cache and work
// directory. A count that disappears (Redis restarted empty: the
// controller publishes again at its next pass) or cannot be read changes
// nothing.
func sizeByNode(ctx context.Context, cfg Config, rdb redis.Cmdable, hb *heartbeat.Writer,
	serve func(slots, prefetch int) (*asynq.Server, error)) {
	log := cfg.Log.With(zap.String("node", cfg.NodeID))
	var srv *asynq.Server
	cur := -1 // no count yet
	perSlot := cfg.Prefetch
	if perSlot < 0 {
		perSlot = 1
	}
	stopServer := func() {
		if srv != nil {
			srv.Shutdown()
			srv = nil
		}
	}
	readFailed, ready := false, cfg.Ready
	hb.SetSlots(0, waitUnpublished)
	log.Info("runner " + waitUnpublished)
	t := time.NewTicker(cfg.SlotsCheck)
	defer t.Stop()
	for {
		n, ok, err := nodeSlots(ctx, rdb, cfg.NodeID)
		switch {
		case err != nil:
			if !readFailed && ctx.Err() == nil {
				log.Warn("cannot read this node's runner slots; keeping the current count", zap.Int("slots", max(cur, 0)), zap.Error(err))
			}
		case !ok || n == cur:
		default:
			if srv != nil {
				log.Info("this node's runner slots changed: restarting the queue server; running tasks get the shutdown grace, then go back to the queue",
					zap.Int("from", cur), zap.Int("to", n))
			}
			stopServer()
			cur = n
			if n == 0 {
				hb.SetSlots(0, waitNoSlots)
				log.Info("runner " + waitNoSlots)
				break
			}
			s, err := serve(n, n*perSlot)
			if err != nil {
				// Redis is unreachable: try again at the next check.
				log.Warn("cannot start the queue server", zap.Error(err))
				cur = -1
				hb.SetSlots(0, waitUnpublished)
				break
			}
			srv = s
			hb.SetSlots(n, "")
			if ready != nil {
				close(ready)
				ready = nil
			}
		}
		readFailed = err != nil
		select {
		case <-ctx.Done():
			log.Info("worker stopping: unfinished tasks go back to the queue")
			stopServer()
			return
		case <-t.C:
		}
	}
}
