package campaign

import (
	"slices"
	"time"

	"context"
	"encoding/json"
	"errors"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// The status of a pass is written once, when the pass returns, whichever
// way it returns (Flux's deferred summarize-and-patch): the status Compute
// wanted, or, when the pass failed before it got that far, the status it
// had; a pass that failed also says why, in Ready (the error's reason and
// text) and Reconciling (ReasonRetrying), so that describe, wait and the
// dashboard show a campaign whose every pass fails as failing, not as the
// last "Running n/m" it reached. The write is fenced by the leader epoch: a
// deposed leader's write is refused (store.ErrFenced) and changes nothing.

// writeStatus writes the status a pass of c ended with (want: what the
// pass wanted, Compute's status or a delete's progress, nil if the pass
// did not get there; err: how the pass ended) when it differs from the
// stored one, and returns err, joined with the write's error. A failed
// pass changes only Ready and Reconciling of what it would have written:
// its phase and counts are what it reached, never older than what the
// object had when the pass began (c), and the pass is the only writer of
// its campaign's status (the runtime runs one pass per key; a newer
// leader fences it).
func (r *Reconciler) writeStatus(ctx context.Context, c *api.Campaign, want *api.CampaignStatus, err error) error {
	if errors.Is(err, store.ErrFenced) || ctx.Err() != nil {
		return err // not the leader any more, or shutting down
	}
	st := c.Status
	if want != nil {
		st = *want
	}
	if err != nil {
		st = failedPass(st, err, c.Metadata.Generation, r.now().UTC())
	}
	if !statusChanged(c.Status, st) {
		return err
	}
	if werr := r.Store.UpdateStatus(ctx, c.Metadata.Name, c.Metadata.UID, st, r.Epoch); werr != nil {
		return errors.Join(err, werr)
	}
	// Each new failure of a worker is logged once, when it reaches the
	// status.
	was, now := findCondition(c.Status.Conditions, api.ConditionDegraded), findCondition(st.Conditions, api.ConditionDegraded)
	if now != nil && now.Status == api.ConditionTrue && (was == nil || was.Status != now.Status || was.Message != now.Message) {
		r.log().Warn("campaign degraded", zap.String("campaign", c.Metadata.Name), zap.String("reason", now.Reason),
			zap.String("message", now.Message))
	}
	return err
}

// failedPass is st with the error of a failed pass in its conditions.
func failedPass(st api.CampaignStatus, err error, gen int64, now time.Time) api.CampaignStatus {
	st.Conditions = slices.Clone(st.Conditions)
	st.Conditions = setCondition(st.Conditions, api.ConditionReady, api.ConditionFalse, errorReason(err), err.Error(), gen, now)
	st.Conditions = setCondition(st.Conditions, api.ConditionReconciling, api.ConditionTrue, ReasonRetrying,
		"the last pass failed; retrying", gen, now)
	return st
}

// reasonError gives an error of a pass the condition reason it shows
// under.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

func errorReason(err error) string {
	if re := (*reasonError)(nil); errors.As(err, &re) {
		return re.reason
	}
	return ReasonReconcileFailed
}

func queueError(err error) error {
	if err == nil {
		return nil
	}
	return &reasonError{reason: ReasonQueueUnavailable, err: err}
}

func statusChanged(a, b api.CampaignStatus) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) != string(jb)
}

// reasonedQueue is the TaskQueue whose errors say they are the queue's.
type reasonedQueue struct{ q TaskQueue }

func (r reasonedQueue) EnqueueRun(ctx context.Context, t schema.RunTask) error {
	return queueError(r.q.EnqueueRun(ctx, t))
}

func (r reasonedQueue) EnqueueBuild(ctx context.Context, t schema.BuildTask) error {
	return queueError(r.q.EnqueueBuild(ctx, t))
}

func (r reasonedQueue) BuildQueued(ctx context.Context, key string) (bool, error) {
	ok, err := r.q.BuildQueued(ctx, key)
	return ok, queueError(err)
}

func (r reasonedQueue) RunTasks(ctx context.Context, campaign, uid string) (map[int]string, error) {
	m, err := r.q.RunTasks(ctx, campaign, uid)
	return m, queueError(err)
}

func (r reasonedQueue) DeadRuns(ctx context.Context, campaign, uid string) ([]TaskFailure, error) {
	ts, err := r.q.DeadRuns(ctx, campaign, uid)
	return ts, queueError(err)
}

func (r reasonedQueue) RetryingRuns(ctx context.Context, campaign, uid string) ([]TaskFailure, error) {
	ts, err := r.q.RetryingRuns(ctx, campaign, uid)
	return ts, queueError(err)
}

func (r reasonedQueue) BuildFailure(ctx context.Context, key string) (*TaskFailure, error) {
	t, err := r.q.BuildFailure(ctx, key)
	return t, queueError(err)
}

func (r reasonedQueue) Bury(ctx context.Context, t TaskFailure) error {
	return queueError(r.q.Bury(ctx, t))
}

func (r reasonedQueue) Unqueue(ctx context.Context, campaign, uid string, others bool) ([]int, error) {
	runs, err := r.q.Unqueue(ctx, campaign, uid, others)
	return runs, queueError(err)
}
