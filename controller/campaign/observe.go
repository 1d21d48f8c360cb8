package campaign

import (
	"context"
	"errors"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// observe reads what a pass needs to know of campaign c: its build, its
// runs (expanded, counted), its tasks in the queue and its place in the
// dispatch window. It writes nothing (the Expander may ask a builder to
// list the runs of a build, a request the queue deduplicates). It also
// returns the campaign's live tasks by run, for dispatch to skip.
func (r *Reconciler) observe(ctx context.Context, s *campaignState, c *api.Campaign) (Observed, map[int]string, error) {
	name, uid := c.Metadata.Name, c.Metadata.UID
	o := Observed{Generation: c.Metadata.Generation, Spec: c.Spec, Status: c.Status, Expanded: -1, Now: r.now().UTC(),
		SourceRevision: c.Metadata.Annotations[AnnotationSourceRevision]}
	o.SpecErr = api.Validate(c)
	if o.SpecErr != nil {
		return o, nil, nil
	}
	o.BuildKey = buildKey(c.Spec)
	b, err := r.Store.GetBuild(ctx, o.BuildKey)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return o, nil, err
	default:
		o.Build = b
	}
	runs, known, err := r.expand(ctx, s, c, o.Build)
	switch {
	case errors.Is(err, ErrInvalid):
		o.SpecErr = err
		return o, nil, nil
	case err != nil:
		return o, nil, err
	case known:
		o.Expanded = len(runs)
	default:
		o.Requested = requestedRuns(c.Spec.Simulation.Runs)
	}

	buildDone := o.Build != nil && o.Build.State == schema.BuildSucceeded
	var live map[int]string
	if buildDone {
		if live, err = r.tasks().RunTasks(ctx, name, uid); err != nil {
			return o, nil, err
		}
		if o.Failure, err = r.retrying(ctx, name, uid, live); err != nil {
			return o, nil, err
		}
	}
	o.Inflight = len(live)
	for _, st := range live {
		if st == schema.TaskActive {
			o.Active++
		}
	}
	// Nothing in flight: the campaign may just have finished, count now
	// (unless runs were never dispatched: then dispatch is only behind).
	mayBeDone := o.Inflight == 0 && mayBeFinished(s, o.Expanded)
	if o.Counts, o.CountsFresh, err = r.counts(ctx, s, name, buildDone && mayBeDone); err != nil {
		return o, nil, err
	}
	switch {
	case buildDone && o.CountsFresh && o.Counts.Failed > 0:
		if o.Retryable, err = r.Store.Runs(ctx, store.RunQuery{Campaign: name, UID: uid, State: schema.RunFailed, After: -1,
			MaxAttempts: maxAttempts(c.Spec), Limit: retryPerPass}); err != nil {
			return o, nil, err
		}
	case !buildDone && o.Build != nil && o.Build.State != schema.BuildFailed:
		if o.BuildTaskQueued, err = r.tasks().BuildQueued(ctx, o.BuildKey); err != nil {
			return o, nil, err
		}
		if f, err := r.buildRetrying(ctx, o.BuildKey); err != nil {
			return o, nil, err
		} else if f != nil {
			o.Failure = f
		}
	}
	created := time.Time{}
	if c.Metadata.CreationTimestamp != nil {
		created = *c.Metadata.CreationTimestamp
	}
	o.Pool = r.Shares.Pool(name, c.Spec.Priority, created)
	if buildDone {
		if o.Durations, err = r.durations(ctx, s, name, o.Counts.Succeeded); err != nil {
			return o, nil, err
		}
		if c.Spec.Stop != nil && o.Expanded > 0 {
			if err := r.observeStop(ctx, s, c, &o, live); err != nil {
				return o, nil, err
			}
		}
	}
	return o, live, nil
}

// retryPerPass bounds the Failed runs one pass sends back to Pending.
const retryPerPass = 1000

func maxAttempts(spec api.CampaignSpec) int {
	retries := 2
	if spec.Retries != nil {
		retries = int(*spec.Retries)
	}
	return 1 + retries
}

const maxCountAge = 30 * time.Second

// counts returns the campaign's run counts, and whether they were just
// counted (fresh) rather than taken from its state.
func (r *Reconciler) counts(ctx context.Context, s *campaignState, name string, force bool) (api.RunCounts, bool, error) {
	e := s.counts
	if e.valid && !force && r.now().Sub(e.at) < min(10*e.cost, maxCountAge) {
		return e.c, false, nil
	}
	start := time.Now()
	c, err := r.Store.RunCounts(ctx, name, s.uid)
	if err != nil {
		return c, false, err
	}
	s.counts = countEntry{valid: true, c: c, at: r.now(), cost: time.Since(start)}
	return c, true, nil
}

func (r *Reconciler) expand(ctx context.Context, s *campaignState, c *api.Campaign, b *schema.BuildRecord) ([]int, bool, error) {
	if s.expansion.known {
		return s.expansion.runs, true, nil
	}
	runs, known, err := r.Expander.Expand(ctx, c, b)
	if err != nil {
		return nil, false, err
	}
	s.expansion = expansion{runs: runs, known: known}
	return runs, known, nil
}
