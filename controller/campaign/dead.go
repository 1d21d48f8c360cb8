package campaign

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/workers/jobs"
)

// Tasks the queue gave up on. A worker records the outcome of every task
// it carries out, but some end without one: a payload it cannot read, a
// worker that crashed on it until its retries ran out, an outcome it
// could not write. asynq archives those, and a run whose task is archived
// would stay Pending and be sent again for ever (a build, Running for
// ever). The reconciler records them as what they are, failures with the
// worker's last error, and deletes them from the queue.

// deadMessage is the outcome recorded for a task the queue gave up on.
func deadMessage(t DeadTask) string {
	if t.Err == "" {
		return "the queue gave up on the task (no error was reported)"
	}
	return "the queue gave up on the task: " + t.Err
}

// buryDeadRuns records the archived run tasks of (name, uid) as failed
// attempts, counted against the runs' retries, and returns how many it
// found.
func (r *Reconciler) buryDeadRuns(ctx context.Context, name, uid string) (int, error) {
	dead, err := r.Tasks.DeadRuns(ctx, name, uid)
	if err != nil || len(dead) == 0 {
		return 0, err
	}
	for _, t := range dead {
		msg := deadMessage(t)
		changed, err := r.Store.FailRun(ctx, jobs.RunID(name, uid, t.Run), t.Attempt+1, msg)
		if err != nil {
			return 0, err
		}
		if changed {
			r.log().Warn("run attempt failed without an outcome; recorded it", zap.String("campaign", name),
				zap.Int("run", t.Run), zap.Int("attempt", t.Attempt+1), zap.String("error", t.Err))
		}
		if err := r.Tasks.Bury(ctx, t); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

// buryDeadBuild fails build b if the queue gave up on its task, and
// returns the build record as it now is.
func (r *Reconciler) buryDeadBuild(ctx context.Context, name string, b *jobs.BuildRecord) (*jobs.BuildRecord, error) {
	t, ok, err := r.Tasks.DeadBuild(ctx, b.Key)
	if err != nil || !ok {
		return b, err
	}
	msg := deadMessage(*t)
	changed, err := r.Store.FailBuild(ctx, b.Key, msg)
	if err != nil {
		return b, err
	}
	if changed {
		r.log().Warn("build failed without an outcome; recorded it", zap.String("campaign", name),
			zap.String("key", b.Key), zap.String("error", t.Err))
	}
	if err := r.Tasks.Bury(ctx, *t); err != nil {
		return b, err
	}
	nb, err := r.Store.GetBuild(ctx, b.Key)
	if err != nil {
		return b, fmt.Errorf("reread build: %w", err)
	}
	return nb, nil
}
