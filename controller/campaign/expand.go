package campaign

import (
	"context"
	"fmt"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/runlist"
)

// SpecExpander expands a campaign's runs. The program decides which runs
// exist, whatever the filter: the builder lists the runs with the built
// program (-q runs, with -r FILTER for a filter expression such as
// '$numHosts>10') and records them with the build (package runlist), and
// the runs are known once that list is. A spec.simulation.runs of run
// numbers ("0..9,20") selects among the config's runs as OMNeT++'s -r does:
// a number the program does not list makes the campaign invalid, naming
// every such run (api.NoSuchRunsError), instead of records for runs that can
// never succeed. This controller never counts runs from the ini itself.
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
	numbers, isNumbers, err := runNumbers(sim.Runs)
	if err != nil {
		return nil, false, err
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
	if rec.Count > api.MaxRuns && !isNumbers { // numbers select fewer, checked below
		return nil, false, fmt.Errorf("%w: the program lists %d runs of %s, more than the limit of %d", ErrInvalid, rec.Count, what, api.MaxRuns)
	}
	if rec.Count == 0 {
		return nil, false, fmt.Errorf("%w: the program lists no runs of %s", ErrInvalid, what)
	}
	runs, err := runlist.Numbers(ctx, e.Store.DB, rec)
	if err != nil {
		return nil, false, err
	}
	if isNumbers {
		if runs, err = numbers.Select(q.Config, runs); err != nil {
			return nil, false, fmt.Errorf("%w: spec.simulation.runs %q: %v", ErrInvalid, sim.Runs, err)
		}
	}
	return runs, true, nil
}

// runNumbers parses a spec.simulation.runs of run numbers; isNumbers is
// false for none ("") and for a filter expression.
func runNumbers(runs string) (f api.RunFilter, isNumbers bool, err error) {
	if runs == "" || api.IsRunExpression(runs) {
		return api.RunFilter{}, false, nil
	}
	if f, err = api.ParseRunFilter(runs); err != nil {
		return f, false, fmt.Errorf("%w: spec.simulation.runs: %v", ErrInvalid, err)
	}
	return f, true, nil
}

// requestedRuns is how many runs a spec.simulation.runs of run numbers
// asks for (0 for none and for a filter expression): the runs the status
// counts, pending, before the program has listed which exist.
func requestedRuns(runs string) int {
	f, ok, err := runNumbers(runs)
	if !ok || err != nil {
		return 0
	}
	return int(min(f.Count(), api.MaxRuns))
}
