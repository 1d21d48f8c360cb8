package manager

import (
	"context"
	"fmt"
	"sync"

	"go.uber.org/zap"
)

// Runnable is a component the manager runs: Start blocks until ctx ends
// (or the component fails) and returns nil when it stopped because ctx
// ended. It is controller-runtime's manager.Runnable.
type Runnable interface {
	Start(ctx context.Context) error
}

// LeaderElectionRunnable says whether a Runnable needs leadership. One that
// does not implement it needs leadership: it runs only while this instance
// leads (the campaign controller, the manifest sources, the stack
// reconciler), started anew each time it becomes leader and stopped when
// the lease is lost. NeedLeaderElection false runs it on every instance
// for the process's lifetime (the API server, the dashboard).
type LeaderElectionRunnable interface {
	NeedLeaderElection() bool
}

// RunnableFunc makes a function a Runnable (needing leadership).
type RunnableFunc func(ctx context.Context) error

// Start calls f.
func (f RunnableFunc) Start(ctx context.Context) error { return f(ctx) }

// needsLeader reports whether r runs only while leading.
func needsLeader(r Runnable) bool {
	l, ok := r.(LeaderElectionRunnable)
	return !ok || l.NeedLeaderElection()
}

// always wraps a RunnableFunc that runs on every instance.
type always RunnableFunc

func (f always) Start(ctx context.Context) error { return f(ctx) }
func (always) NeedLeaderElection() bool          { return false }

// startAll runs every runnable in its own goroutine until ctx ends and
// waits for all of them. A runnable that fails is logged; the others keep
// running, as one failed manifest source must not stop reconciling.
func startAll(ctx context.Context, rs []Runnable, log *zap.Logger) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Start(ctx); err != nil && ctx.Err() == nil {
				log.Error("component stopped", zap.String("component", fmt.Sprintf("%T", r)), zap.Error(err))
			}
		}()
	}
	wg.Wait()
}
