package stack

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/controller/reconcile"
)

// Backoff bounds for failed passes and a broken event stream, and how soon
// a pass is repeated while distcc tasks are starting.
const (
	startingRecheck = time.Second
	minBackoff      = 500 * time.Millisecond
	maxBackoff      = 30 * time.Second
)

// Passes is how many passes Run has completed (for tests and metrics).
func (r *Reconciler) Passes() int64 { return r.passes.Load() }

// Run reconciles until ctx ends, as a single-key controller on the
// controller runtime (package reconcile): at once, on every relevant
// Docker event, after failures (with backoff), and periodically
// (jittered). It makes no pass while Leading reports false. It returns
// ctx's error.
func (r *Reconciler) Run(ctx context.Context) error {
	key := r.stack.Metadata.Name
	var ctl *reconcile.Controller
	ctl = reconcile.New(reconcile.Options{
		Name: "key", Resync: r.resync, Jitter: r.jitter,
		BaseDelay: minBackoff, MaxDelay: maxBackoff,
		Keys:      func(context.Context) ([]string, error) { return []string{key}, nil },
		Observe:   r.onPass,
		Logger:    r.log,
		Reconcile: func(ctx context.Context, _ string) (reconcile.Result, error) { return r.runPass(ctx, ctl.RetryIn(key)) },
	})
	if r.events != nil {
		go r.watch(ctx, func() { ctl.Add(key) })
	}
	_ = ctl.Start(ctx)
	return ctx.Err()
}

// runPass is one pass of Run: Reconcile, noted for the dashboard, and when to
// look again sooner than the resync. retryIn is the backoff a failure
// waits, for the action log.
func (r *Reconciler) runPass(ctx context.Context, retryIn time.Duration) (reconcile.Result, error) {
	if !r.leading() {
		return reconcile.Result{}, nil
	}
	start := r.now()
	res, err := r.Reconcile(ctx)
	r.passes.Add(1)
	r.passDone(start, res, err)
	if err != nil {
		if ctx.Err() == nil {
			r.record("reconcile pass", "retrying in "+retryIn.String(), err)
		}
		return reconcile.Result{}, err
	}
	var again time.Duration
	if res.DistccStarting || res.Nudged {
		again = startingRecheck
	}
	if res.StuckWatched && (again == 0 || r.stuckGrace < again) {
		again = r.stuckGrace
	}
	if res.Writes() > 0 {
		r.log.Info("stack reconciled", zap.Strings("created", res.Created),
			zap.Strings("updated", res.Updated), zap.Strings("removed", res.Removed))
	}
	return reconcile.Result{RequeueAfter: again}, nil
}

// passDone notes a completed pass for the dashboard.
func (r *Reconciler) passDone(start time.Time, res Result, err error) {
	p := Pass{Time: start.UTC(), Duration: r.now().Sub(start), Writes: res.Writes()}
	if err != nil {
		p.Err = err.Error()
	}
	r.actions.setPass(p)
}

// nextResync is the resync period jittered by ±20%, as the runtime waits.
func (r *Reconciler) nextResync() time.Duration {
	return reconcile.Jittered(r.resync, r.jitter())
}

// watch turns Docker events into pokes. Events carry no state the pass
// uses: it always observes afresh, so a dropped or coalesced event only
// delays, never loses, a change. A broken stream is reopened (with a poke,
// as events may have been missed meanwhile).
func (r *Reconciler) watch(ctx context.Context, poke func()) {
	args := filters.NewArgs(
		filters.Arg("type", string(events.ServiceEventType)),
		filters.Arg("type", string(events.NodeEventType)),
		filters.Arg("type", string(events.ContainerEventType)),
	)
	backoff := minBackoff
	for ctx.Err() == nil {
		msgs, errs := r.events.Events(ctx, events.ListOptions{Filters: args})
		opened := time.Now()
	stream:
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-msgs:
				if relevant(m) {
					poke()
				}
			case err := <-errs:
				if ctx.Err() != nil {
					return
				}
				r.log.Warn("docker event stream broke; reopening", zap.Error(err))
				break stream
			}
		}
		if time.Since(opened) > maxBackoff {
			backoff = minBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
		poke()
	}
}

// relevant filters out container chatter that cannot change the stack
// (exec, attach, health probes ...).
func relevant(m events.Message) bool {
	if m.Type != events.ContainerEventType {
		return true
	}
	switch m.Action {
	case events.ActionStart, events.ActionDie, events.ActionDestroy, events.ActionCreate, events.ActionKill, events.ActionStop:
		return true
	}
	return false
}
