package campaign

import (
	"context"
	"time"

	"github.com/simswarm/simswarm/workers/jobs"
	"github.com/simswarm/simswarm/workers/runlist"
)

// EnqueueRunsQuery asks a builder to list a succeeded build's runs for a
// campaign (SpecExpander.RequestRuns): a build task carrying the campaign's
// simulation, with an ID of its own per run list, so that it is neither
// deduplicated against the build itself nor sent twice while queued.
func (q *AsynqQueue) EnqueueRunsQuery(ctx context.Context, t jobs.BuildTask) error {
	if err := q.register(ctx); err != nil {
		return err
	}
	b, err := jobs.Marshal(t)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, jobs.QueueBuild, jobs.TypeBuild, "runs:"+runlist.ID(t.Key, runlist.QueryOf(*t.Simulation)), b, 30*time.Minute)
}
