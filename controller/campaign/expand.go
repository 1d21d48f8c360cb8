package campaign

import (
	"context"
	"fmt"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/runlist"
)

// SpecExpander expands a campaign's runs. A spec.simulation.runs filter of
// run numbers ("0..9,20") is the list. Otherwise - every run of the config,
// or a filter expression such as '$numHosts>10' - the program decides: the
// builder lists the runs with the built program (-q runs, -r FILTER) and
// records them with the build (package runlist), and the runs are known
// once that list is. This controller never counts runs from the ini itself.
type SpecExpander struct {
	Store *store.Store
	// RequestRuns asks a builder to list the runs of a build that succeeded
	// before (for another campaign, or before a query was asked of it);
	// repeated requests for the same list are deduplicated by the queue.
	RequestRuns func(ctx context.Context, t schema.BuildTask) error
}

// Expand implements Expander.
func (e *SpecExpander) Expand(ctx context.Context, c *api.Campaign, b *schema.BuildRecord) ([]int, bool, error) {
	sim := c.Spec.Simulation
	if sim.Runs != "" && !api.IsRunExpression(sim.Runs) {
		f, err := api.ParseRunFilter(sim.Runs)
		if err != nil {
			return nil, false, fmt.Errorf("%w: spec.simulation.runs: %v", ErrInvalid, err)
		}
		return f.Numbers(0), true, nil
	}
	if b == nil || b.State != schema.BuildSucceeded {
		return nil, false, nil // the built program lists them
	}
	q := runlist.QueryOf(sim)
	id := runlist.ID(b.Key, q)
	rec, err := runlist.Get(ctx, e.Store.DB, id)
	if err != nil {
		return nil, false, err
	}
	if rec == nil {
		if e.RequestRuns == nil {
			return nil, false, fmt.Errorf("%w: spec.simulation.runs: required (this controller cannot ask a builder for the runs)", ErrInvalid)
		}
		return nil, false, e.RequestRuns(ctx, schema.BuildTask{Campaign: c.Metadata.Name, UID: c.Metadata.UID, Key: b.Key,
			Source: c.Spec.Source, Build: c.Spec.Build, Simulation: &sim})
	}
	what := "config " + q.Config
	if q.Filter != "" {
		what += " with -r " + q.Filter
	}
	if rec.State == runlist.StateFailed {
		return nil, false, fmt.Errorf("%w: the program could not list the runs of %s: %s", ErrInvalid, what, rec.Error)
	}
	if rec.Count > api.MaxRuns {
		return nil, false, fmt.Errorf("%w: the program lists %d runs of %s, more than the limit of %d", ErrInvalid, rec.Count, what, api.MaxRuns)
	}
	if rec.Count == 0 {
		return nil, false, fmt.Errorf("%w: the program lists no runs of %s", ErrInvalid, what)
	}
	runs, err := runlist.Numbers(ctx, e.Store.DB, rec)
	if err != nil {
		return nil, false, err
	}
	return runs, true, nil
}
