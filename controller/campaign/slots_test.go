package campaign

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestWindowFollowsWorkersBetweenResyncs: runners that come up after the
// controller started (a fresh deployment, a cluster that grew) widen the
// dispatch window within seconds, not at the next full resync: with 1,600
// slots and the window still at its floor of 32, a million-run campaign
// of 1 s runs ran 32 at a time for the first 30 s.
func TestWindowFollowsWorkersBetweenResyncs(t *testing.T) {
	e := newEnv(t)
	var slots atomic.Int64
	c := &Controller{Reconciler: e.r, Resync: time.Hour,
		WorkerCount: func(context.Context) (int, error) { return int(slots.Load()), nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	time.Sleep(200 * time.Millisecond) // the first resync has counted no workers
	slots.Store(1600)
	deadline := time.Now().Add(3 * slotsEvery)
	for e.r.Shares.Total() < WindowFor(1600) || e.r.Shares.Slots() != 1600 {
		if time.Now().After(deadline) {
			t.Fatalf("window %d for %d slots %s after the workers came, want %d", e.r.Shares.Total(),
				e.r.Shares.Slots(), 3*slotsEvery, WindowFor(1600))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
