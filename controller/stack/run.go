package stack

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"go.uber.org/zap"
)

// Backoff bounds for failed passes and a broken event stream, and how soon
// a pass is repeated while distcc tasks are starting.
const (
	startingRecheck = time.Second
	minBackoff      = 500 * time.Millisecond
	maxBackoff      = 30 * time.Second
)

func defaultJitter() float64 { return rand.Float64() }

// Passes is how many passes Run has completed (for tests and metrics).
func (r *Reconciler) Passes() int64 { return r.passes.Load() }

// Run reconciles until ctx ends: at once, on every relevant Docker event,
// after failures (with backoff), and periodically (jittered). It makes no
// pass while Leading reports false. It returns ctx's error.
func (r *Reconciler) Run(ctx context.Context) error {
	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default: // a pass is already pending; it will see this change too
		}
	}
	if r.events != nil {
		go r.watch(ctx, poke)
	}
	poke()
	backoff := time.Duration(0)
	timer := time.NewTimer(r.nextResync())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-trigger:
		case <-timer.C:
		}
		wait := r.nextResync()
		if r.leading() {
			start := r.now()
			res, err := r.Reconcile(ctx)
			r.passes.Add(1)
			r.passDone(start, res, err)
			switch {
			case err != nil && ctx.Err() == nil:
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				wait = backoff
				r.record("reconcile pass", "retrying in "+backoff.String(), err)
				r.log.Warn("stack reconcile failed; retrying", zap.Error(err), zap.Duration("retryIn", backoff))
			case err == nil:
				backoff = 0
				if res.DistccStarting || res.Nudged {
					wait = min(wait, startingRecheck)
				}
				if res.StuckWatched {
					wait = min(wait, r.stuckGrace)
				}
				if res.Writes() > 0 {
					r.log.Info("stack reconciled", zap.Strings("created", res.Created),
						zap.Strings("updated", res.Updated), zap.Strings("removed", res.Removed))
				}
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// passDone notes a completed pass for the dashboard and metrics.
func (r *Reconciler) passDone(start time.Time, res Result, err error) {
	took := r.now().Sub(start)
	p := Pass{Time: start.UTC(), Duration: took, Writes: res.Writes()}
	if err != nil {
		p.Err = err.Error()
	}
	r.actions.setPass(p)
	if r.onPass != nil {
		r.onPass(took, err)
	}
}

// nextResync is the resync period jittered by ±20%.
func (r *Reconciler) nextResync() time.Duration {
	return time.Duration(float64(r.resync) * (0.8 + 0.4*r.jitter()))
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
