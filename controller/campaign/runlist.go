package campaign

import (
	"context"
	"time"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/runlist"
)

// EnqueueRunsQuery asks a builder to list a succeeded build's runs for a
// campaign (SpecExpander.RequestRuns): a build task carrying the campaign's
// simulation, with an ID of its own per run list, so that it is neither
// deduplicated against the build itself nor sent twice while queued.
func (q *AsynqQueue) EnqueueRunsQuery(ctx context.Context, t schema.BuildTask) error {
	if err := q.register(ctx); err != nil {
		return err
	}
	b, err := schema.Marshal(t)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, schema.QueueBuild, schema.TypeBuild, "runs:"+runlist.ID(t.Key, runlist.QueryOf(*t.Simulation)), b, 30*time.Minute)
}
