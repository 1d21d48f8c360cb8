package campaign

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/controller/workqueue"
)

// Controller runs the Reconciler over a workqueue: keys come from Enqueue
// (API writes, manifest sources) and from a jittered periodic resync of all
// campaigns (and of run records whose campaign is gone).
type Controller struct {
	Reconciler *Reconciler
	Queue      *workqueue.Queue
	// Workers is how many campaigns are reconciled in parallel. Default 2.
	Workers int
	// Resync is the period of the full resync. Default 30s (±20% jitter).
	Resync time.Duration
	// WorkerCount, if set, returns how many run slots the workers offer;
	// the dispatch window is sized from it at every resync.
	WorkerCount func(ctx context.Context) (int, error)
	// OnReconcile, if set, is told how long each reconcile took and how it
	// ended (metrics).
	OnReconcile func(took time.Duration, err error)
	Logger      *zap.Logger

	resyncs int
}

// orphanEvery is how many resyncs pass between scans for run records of
// deleted campaigns (a scan of the runs collection; deletions seen by this
// process's API are handled at once).
const orphanEvery = 10

// Enqueue asks for name to be reconciled soon.
func (c *Controller) Enqueue(name string) { c.Queue.Add(name) }

// coalesceChanges is how long announcements from workers (a run finished)
// are gathered before the campaign is reconciled: with runs finishing many
// times a second, one pass per run would spend the store's writes on
// status updates instead of on the runs. The dispatch window holds about
// a second of work (Shares), so the runners do not wait for it.
const coalesceChanges = 200 * time.Millisecond

// Announced takes an announcement that name changed (schema.ChangesChannel:
// nearly always a worker's finished run) and asks for name to be
// reconciled within coalesceChanges, folding every further request until
// then into the same pass.
func (c *Controller) Announced(msg string) {
	name, runs := schema.ParseAnnouncement(msg) // a batch's runs count one by one
	c.Reconciler.Shares.FinishedRuns(runs)
	c.Queue.AddAfter(name, coalesceChanges)
}

// Run reconciles until ctx ends, then shuts the queue down and waits.
func (c *Controller) Run(ctx context.Context) {
	log := c.Logger
	if log == nil {
		log = zap.NewNop()
	}
	workers := c.Workers
	if workers <= 0 {
		workers = 2
	}
	resync := c.Resync
	if resync <= 0 {
		resync = 30 * time.Second
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx, log) {
			}
		}()
	}
	c.resync(ctx, log)
	for {
		jitter := time.Duration(float64(resync) * (0.8 + 0.4*rand.Float64()))
		select {
		case <-ctx.Done():
			c.Queue.ShutDown()
			wg.Wait()
			return
		case <-time.After(jitter):
			c.resync(ctx, log)
		}
	}
}

func (c *Controller) resync(ctx context.Context, log *zap.Logger) {
	if c.WorkerCount != nil {
		if n, err := c.WorkerCount(ctx); err == nil {
			c.Reconciler.Shares.SetFloor(WindowFor(n))
			c.Reconciler.Shares.SetSlots(n)
		} else {
			log.Warn("counting workers failed", zap.Error(err))
		}
	}
	cs, err := c.Reconciler.Store.List(ctx)
	if err != nil {
		log.Warn("resync: listing campaigns failed", zap.Error(err))
		return
	}
	seen := map[string]bool{}
	for _, cp := range cs {
		seen[cp.Metadata.Name] = true
		c.Queue.Add(cp.Metadata.Name)
	}
	// Prunes in progress (one that a previous leader was doing too).
	if uids, err := c.Reconciler.Store.PruningResultSets(ctx); err != nil {
		log.Warn("resync: listing result sets being pruned failed", zap.Error(err))
	} else {
		for _, u := range uids {
			c.Queue.Add(PruneKey(u))
		}
	}
	c.resyncs++
	if c.resyncs%orphanEvery != 1 {
		return
	}
	names, err := c.Reconciler.Store.RunCampaigns(ctx)
	if err != nil {
		log.Warn("resync: listing run records failed", zap.Error(err))
		return
	}
	for _, n := range names {
		if !seen[n] {
			c.Queue.Add(n) // deleted campaign: the reconciler cleans up
		}
	}
}

func (c *Controller) processNext(ctx context.Context, log *zap.Logger) bool {
	key, shutdown := c.Queue.Get()
	if shutdown {
		return false
	}
	defer c.Queue.Done(key)
	start := time.Now()
	after, err := c.Reconciler.Reconcile(ctx, key)
	if c.OnReconcile != nil && ctx.Err() == nil {
		c.OnReconcile(time.Since(start), err)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down.
	case errors.Is(err, store.ErrFenced):
		log.Warn("reconcile fenced: a newer leader is active", zap.String("campaign", key), zap.Error(err))
	case err != nil:
		log.Warn("reconcile failed", zap.String("campaign", key), zap.Int("requeues", c.Queue.NumRequeues(key)), zap.Error(err))
		c.Queue.AddRateLimited(key)
	default:
		c.Queue.Forget(key)
		if after > 0 {
			c.Queue.AddAfter(key, after)
		}
		log.Debug("reconciled", zap.String("campaign", key), zap.Duration("took", time.Since(start)))
	}
	return true
}
