package reconcile

import (
	"context"
	"errors"
	"time"
)

// Func reconciles one key: it observes the world afresh, converges it
// towards the desired state and says when to look again.
type Func func(ctx context.Context, key string) (Result, error)

// Result is what a successful pass asks of the controller.
type Result struct {
	// RequeueAfter, if positive, makes the controller pass over the key
	// again after this long (the earliest of several pending delays wins),
	// without counting a failure. Zero leaves the key to events and resyncs.
	RequeueAfter time.Duration
}

// Terminal marks err as terminal: retrying cannot help until something
// else changes (a newer leader holds the epoch, a spec is invalid), so the
// controller logs and counts it but does not requeue the key with backoff.
// Terminal(nil) is nil.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &terminalError{err: err}
}

// IsTerminal reports whether err, or an error it wraps, was marked with
// Terminal. Every other error is transient: the key is retried with
// per-key exponential backoff.
func IsTerminal(err error) bool {
	var t *terminalError
	return errors.As(err, &t)
}

type terminalError struct{ err error }

func (e *terminalError) Error() string { return "terminal error: " + e.err.Error() }
func (e *terminalError) Unwrap() error { return e.err }
