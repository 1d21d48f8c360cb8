package campaign

import (
	"context"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// skipMessage is what a skipped run's record says.
const skipMessage = "not needed: its point's interval met the stop rule"

// skip ends the runs of plan.Skip as Skipped, each only if it is still in
// the state the plan saw (a run a worker finished meanwhile keeps its
// outcome).
func (r *Reconciler) skip(ctx context.Context, s *campaignState, c *api.Campaign, skips []StopSkip) error {
	for _, sk := range skips {
		ok, err := r.Store.SetRunState(ctx, store.RunID(c.Metadata.Name, c.Metadata.UID, sk.Run), sk.From, schema.RunSkipped, skipMessage)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		s.counts.c.Skipped++ // the controller's own transition
		switch sk.From {
		case schema.RunPending:
			s.counts.c.Pending--
		case schema.RunFailed:
			s.counts.c.Failed--
		}
	}
	return nil
}

// dispatchStop enqueues the first n runs of a stop rule's order, in tasks
// of at most size runs of one repetition each (a batch across
// repetitions would run a point's later repetition before its results are
// known).
func (r *Reconciler) dispatchStop(ctx context.Context, c *api.Campaign, o Observed, order []StopItem, n, size int) error {
	timeout := c.Spec.Timeout
	if timeout.Duration <= 0 {
		timeout.Duration = time.Hour
	}
	proto := schema.RunTask{Campaign: c.Metadata.Name, UID: c.Metadata.UID, ArtifactKey: o.BuildKey,
		Simulation: c.Spec.Simulation, Results: c.Spec.Results, Timeout: timeout}
	for _, b := range stopBatches(order[:min(n, len(order))], size) {
		if err := r.tasks().EnqueueRun(ctx, proto.Batch(b)); err != nil {
			return err
		}
	}
	return nil
}

// stopBatches cuts items into tasks of at most size runs, a new one at
// each change of repetition.
func stopBatches(items []StopItem, size int) [][]schema.RunItem {
	size = max(size, 1)
	var out [][]schema.RunItem
	for i, it := range items {
		if i == 0 || len(out[len(out)-1]) == size || it.Repetition != items[i-1].Repetition {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], it.RunItem)
	}
	return out
}
