package campaign

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/internal/textutil"
)

// What becomes of workers' failures. A worker records the outcome of every
// task it carries out, and logs its failures, but some end without an
// outcome: a payload it cannot read, a worker that crashed on the task
// until its retries ran out, an outcome it could not write. asynq archives
// those, and a run whose task is archived would stay Pending and be sent
// again for ever (a build, Running for ever). The reconciler records them
// as what they are, failures with the worker's last error, and deletes
// them from the queue. And what the queue retries, or a run attempt that
// failed and is tried again, shows in the Degraded condition: otherwise
// the campaign would say Running while the reason sat in a task's hash in
// Redis.

// Failure is the latest failure of a worker that a pass saw.
type Failure struct{ Reason, Message string }

func taskError(t TaskFailure) string {
	if t.Err == "" {
		return "no error was reported"
	}
	return t.Err
}

// deadMessage is the outcome recorded for a task the queue gave up on.
func deadMessage(t TaskFailure) string { return "the queue gave up on the task: " + taskError(t) }

// buryDeadRuns records the archived run tasks of (name, uid) as failed
// attempts, counted against the runs' retries, and returns how many it
// found.
func (r *Reconciler) buryDeadRuns(ctx context.Context, name, uid string) (int, error) {
	dead, err := r.tasks().DeadRuns(ctx, name, uid)
	if err != nil || len(dead) == 0 {
		return 0, err
	}
	for _, t := range dead {
		changed, err := r.Store.FailRun(ctx, schema.RunID(name, uid, t.Run), t.Attempt+1, deadMessage(t))
		if err != nil {
			return 0, err
		}
		if changed {
			r.log().Warn("run attempt failed without an outcome; recorded it", zap.String("campaign", name),
				zap.Int("run", t.Run), zap.Int("attempt", t.Attempt+1), zap.String("error", t.Err))
		}
		if err := r.tasks().Bury(ctx, t); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

// retrying returns the failure of a run task of (name, uid) that waits for
// the queue's retry, if live holds one.
func (r *Reconciler) retrying(ctx context.Context, name, uid string, live map[int]string) (*Failure, error) {
	any := false
	for _, st := range live {
		if st == stateRetry {
			any = true
			break
		}
	}
	if !any {
		return nil, nil
	}
	ts, err := r.tasks().RetryingRuns(ctx, name, uid)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	t := ts[0]
	for _, u := range ts[1:] {
		if u.Run < t.Run {
			t = u
		}
	}
	return &Failure{Reason: ReasonTaskRetrying, Message: fmt.Sprintf("run %d: %s (%s; the queue retries it)",
		t.Run, taskError(t), textutil.Plural(int64(len(ts)), "run"))}, nil
}

// attemptFailed is the failure of a run attempt its record holds.
func attemptFailed(rec schema.RunRecord) *Failure {
	msg := rec.Message
	if msg == "" {
		msg = "failed"
	}
	return &Failure{Reason: ReasonAttemptFailed, Message: fmt.Sprintf("run %d attempt %d: %s", rec.Run, rec.Attempts, msg)}
}

// failDeadBuild fails build b if the queue gave up on its task, and
// deletes the task.
func (r *Reconciler) failDeadBuild(ctx context.Context, name string, b *schema.BuildRecord) error {
	t, err := r.tasks().BuildFailure(ctx, b.Key)
	if err != nil || t == nil || !t.Dead {
		return err
	}
	changed, err := r.Store.FailBuild(ctx, b.Key, deadMessage(*t))
	if err != nil {
		return err
	}
	if changed {
		r.log().Warn("build failed without an outcome; recorded it", zap.String("campaign", name),
			zap.String("key", b.Key), zap.String("error", t.Err))
	}
	return r.tasks().Bury(ctx, *t)
}

// buildRetrying returns the failure of build key's task if it waits for
// the queue's retry.
func (r *Reconciler) buildRetrying(ctx context.Context, key string) (*Failure, error) {
	t, err := r.tasks().BuildFailure(ctx, key)
	if err != nil || t == nil || t.Dead {
		return nil, err
	}
	return &Failure{Reason: ReasonBuildRetrying, Message: "build: " + taskError(*t) + " (the queue retries it)"}, nil
}
