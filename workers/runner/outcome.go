package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/workers/procexec"
)

// refusal marks a failure that any worker would meet again with the same
// task: an unusable artifact, a result file name that cannot be stored.
// The attempt is recorded as failed at once, so the run's retries (the
// controller's) decide what comes next, instead of the queue retrying or
// dropping a task whose outcome nobody records.
type refusal struct{ error }

func refuse(err error) error { return refusal{err} }

func (r refusal) Unwrap() error { return r.error }

// attempt is what one delivery of a run task has done so far, for the
// record of its failure.
type attempt struct {
	n       int
	started time.Time
	out     procexec.Result // ExitCode -1: the simulation never ran
	log     *zap.Logger
}

// ended turns the error of one delivery into its outcome. A refusal, a
// panic and the last delivery the queue allows are recorded on the run as
// a failed attempt (and are then no error for the queue); any other error
// goes back to the queue, which retries the task. Every failure is logged
// here, once, at warning level.
func (h *Handler) ended(ctx context.Context, id string, a *attempt, last bool, err error) error {
	if err == nil {
		return nil
	}
	log := a.log
	if ctx.Err() != nil {
		// Shutting down, or past the queue's deadline: the task goes back.
		log.Info("run attempt interrupted; the task goes back to the queue", zap.Error(err))
		return err
	}
	if !errors.As(err, new(refusal)) && !last {
		log.Warn("run attempt failed; the queue retries it", zap.Error(err))
		return err
	}
	log.Warn("run attempt failed", zap.Error(err))
	if rerr := h.recordFailure(ctx, id, a.n, a.started, a.out, err.Error()); rerr != nil {
		// The controller records what the queue gives up on.
		return fmt.Errorf("%w (and recording it: %v)", err, rerr)
	}
	return nil
}

// panicked turns a panic of a delivery into its error, with the stack in
// the log.
func panicked(p any, log *zap.Logger) error {
	log.Error("run attempt panicked", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
	return refuse(fmt.Errorf("runner panicked: %v", p))
}
