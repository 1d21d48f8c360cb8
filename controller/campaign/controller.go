package campaign

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/reconcile"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/controller/workqueue"
)

// Controller runs the Reconciler on the controller runtime (package
// reconcile): keys come from Enqueue (API writes, manifest sources), from
// Announced (workers) and from a jittered periodic resync of all campaigns
// (and of result sets being pruned, and of run records whose campaign is
// gone). It is a leader-only runnable of the manager.
type Controller struct {
	Reconciler *Reconciler
	// Workers is how many campaigns are reconciled in parallel. Default 2.
	Workers int
	// Resync is the period of the full resync. Default 30s (±20% jitter).
	Resync time.Duration
	// WorkerCount, if set, returns how many run slots the workers offer;
	// the dispatch window is sized from it at every resync and every
	// slotsEvery in between.
	WorkerCount func(ctx context.Context) (int, error)
	// OnReconcile, if set, is told how long each reconcile took and how it
	// ended (metrics).
	OnReconcile func(took time.Duration, err error)
	Logger      *zap.Logger
	// Clock and Jitter drive the runtime's delays and resync (tests);
	// default the wall clock and a private random source.
	Clock  workqueue.Clock
	Jitter func() float64

	once    sync.Once
	ctl     *reconcile.Controller
	resyncs int // only the runtime's resync goroutine touches it
}

// orphanEvery is how many resyncs pass between scans for run records of
// deleted campaigns (a scan of the runs collection; deletions seen by this
// process's API are handled at once).
const orphanEvery = 10

// runtime builds the runtime controller on first use, so that Enqueue may
// come before Start.
func (c *Controller) runtime() *reconcile.Controller {
	c.once.Do(func() {
		workers := c.Workers
		if workers <= 0 {
			workers = 2
		}
		c.ctl = reconcile.New(reconcile.Options{Name: "campaign", Workers: workers, Resync: c.Resync,
			Keys: c.keys, Reconcile: c.reconcile, Observe: c.OnReconcile,
			BaseDelay: 200 * time.Millisecond, MaxDelay: time.Minute,
			Clock: c.Clock, Jitter: c.Jitter, Logger: c.Logger})
	})
	return c.ctl
}

// Enqueue asks for name to be reconciled soon.
func (c *Controller) Enqueue(name string) { c.runtime().Add(name) }

// coalesceChanges is how long announcements from workers (a run finished)
// are gathered before the campaign is reconciled: with runs finishing many
// times a second, one pass per run would spend the store's writes on
// status updates instead of on the runs. The dispatch window holds about
// a second of work (Shares), so the runners do not wait for it.
const coalesceChanges = 200 * time.Millisecond

// Announced takes an announcement that name changed (schema.ChangesChannel:
// nearly always a worker's finished run) and asks for name to be
// reconciled within coalesceChanges, folding every further request until
// then into the same pass. A builder's announcement that the build ended
// (schema.BuildAnnouncement) is reconciled at once: the campaign's first
// records and tasks wait for that pass, and a build ends once; so is a
// change made through a standby's API (schema.ChangeAnnouncement), as one
// made through the leader's is.
func (c *Controller) Announced(msg string) {
	name, runs := schema.ParseAnnouncement(msg) // a batch's runs count one by one
	if runs == 0 {
		c.runtime().Add(name)
		return
	}
	c.Reconciler.Shares.FinishedRuns(runs)
	c.runtime().AddAfter(name, coalesceChanges)
}

// Start reconciles until ctx ends, then waits for the passes in flight.
func (c *Controller) Start(ctx context.Context) error {
	if c.WorkerCount != nil {
		go c.followSlots(ctx)
	}
	return c.runtime().Start(ctx)
}

// slotsEvery is how often the dispatch window follows the workers' slots
// between resyncs: workers that come up after the controller (a fresh
// deployment, a cluster that grew) would otherwise wait for the next
// resync with the window at its floor.
const slotsEvery = 2 * time.Second

func (c *Controller) followSlots(ctx context.Context) {
	t := time.NewTicker(slotsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.sizeWindow(ctx)
		}
	}
}

// sizeWindow sizes the dispatch window from the workers' slots.
func (c *Controller) sizeWindow(ctx context.Context) {
	n, err := c.WorkerCount(ctx)
	if err != nil {
		if ctx.Err() == nil && c.Logger != nil {
			c.Logger.Warn("counting workers failed", zap.Error(err))
		}
		return
	}
	c.Reconciler.Shares.SetFloor(WindowFor(n))
	c.Reconciler.Shares.SetSlots(n)
}

// reconcile adapts Reconciler.Reconcile to the runtime: a pass fenced by a
// newer leader's epoch is terminal (retrying cannot help; the new leader
// reconciles it).
func (c *Controller) reconcile(ctx context.Context, name string) (reconcile.Result, error) {
	after, err := c.Reconciler.Reconcile(ctx, name)
	if errors.Is(err, store.ErrFenced) {
		return reconcile.Result{}, reconcile.Terminal(err)
	}
	return reconcile.Result{RequeueAfter: after}, err
}

// keys lists what a resync reconciles; it sizes the dispatch window from
// the workers' slots on the way. A failed listing of pruned result sets or
// orphaned runs is logged and the campaigns are reconciled regardless.
func (c *Controller) keys(ctx context.Context) ([]string, error) {
	log := c.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if c.WorkerCount != nil {
		c.sizeWindow(ctx)
	}
	cs, err := c.Reconciler.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	var keys []string
	seen := map[string]bool{}
	for _, cp := range cs {
		seen[cp.Metadata.Name] = true
		keys = append(keys, cp.Metadata.Name)
	}
	// Prunes in progress (one that a previous leader was doing too).
	if uids, err := c.Reconciler.Store.PruningResultSets(ctx); err != nil {
		log.Warn("resync: listing result sets being pruned failed", zap.Error(err))
	} else {
		for _, u := range uids {
			keys = append(keys, PruneKey(u))
		}
	}
	c.resyncs++
	if c.resyncs%orphanEvery != 1 {
		return keys, nil
	}
	names, err := c.Reconciler.Store.RunCampaigns(ctx)
	if err != nil {
		log.Warn("resync: listing run records failed", zap.Error(err))
		return keys, nil
	}
	for _, n := range names {
		if !seen[n] {
			keys = append(keys, n) // deleted campaign: the reconciler cleans up
		}
	}
	return keys, nil
}
