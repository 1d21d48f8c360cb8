package dbgate_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/dbgate"
)

func client(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// holdAtOnce has holders, each with a client of its own (as processes
// are), acquire a gate of limit places at once and hold it for hold; it
// returns the most inside at once and how many got in.
func holdAtOnce(t *testing.T, addr string, holders, limit int, hold time.Duration) (most, done int) {
	t.Helper()
	var inside, mostIn, in atomic.Int32
	var wg sync.WaitGroup
	for range holders {
		g := &dbgate.Gate{Client: client(t, addr), Key: "gate", Limit: limit}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			release, err := g.Acquire(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := mostIn.Load(); n > m && !mostIn.CompareAndSwap(m, n); m = mostIn.Load() {
			}
			time.Sleep(hold)
			inside.Add(-1)
			release()
			in.Add(1)
		}()
	}
	wg.Wait()
	return int(mostIn.Load()), int(in.Load())
}

// TestGateBoundsHoldersAcrossClients: 20 holders, each with a client of
// its own (as processes are), never more than Limit inside at once, and
// every one gets in.
func TestGateBoundsHoldersAcrossClients(t *testing.T) {
	rs := testdb.StartRedis(t)
	const holders, limit = 20, 3
	most, done := holdAtOnce(t, rs.Addr, holders, limit, 20*time.Millisecond)
	if most > limit || most < 2 || done != holders {
		t.Fatalf("at most %d inside at once (limit %d), %d of %d got in", most, limit, done, holders)
	}
}

// TestGateLeaseOfADeadHolderEnds: a holder that never releases (its
// process died) keeps its place only for its lease; a full gate makes
// Acquire wait until ctx ends, with an error and no release.
func TestGateLeaseOfADeadHolderEnds(t *testing.T) {
	rs := testdb.StartRedis(t)
	g := &dbgate.Gate{Client: client(t, rs.Addr), Key: "gate", Limit: 1, Lease: 500 * time.Millisecond}
	if _, err := g.Acquire(context.Background()); err != nil { // never released
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	release, err := g.Acquire(ctx)
	cancel()
	if release != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire of a full gate: release %v, %v; want none and the deadline", release != nil, err)
	}
	t0 := time.Now()
	release, err = g.Acquire(context.Background())
	if err != nil || release == nil {
		t.Fatalf("after the lease: %v", err)
	}
	release()
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("got in %v after a 500 ms lease", d)
	}
}

// TestGateLetsThroughWhenRedisFails: with Redis gone for longer than
// FailWait, Acquire returns a release and the error, so that a run's
// results are still stored.
func TestGateLetsThroughWhenRedisFails(t *testing.T) {
	rs := testdb.StartRedis(t)
	g := &dbgate.Gate{Client: client(t, rs.Addr), Key: "gate", FailWait: 500 * time.Millisecond}
	rs.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	release, err := g.Acquire(ctx)
	if release == nil || err == nil {
		t.Fatalf("acquire with Redis gone: release %v, %v; want a release and the error", release != nil, err)
	}
	if d := time.Since(t0); d < 500*time.Millisecond || d > 5*time.Second {
		t.Fatalf("let through after %v, want after FailWait (500 ms)", d)
	}
	release()
}

// TestGateRidesOutABriefRedisOutage: Redis gone for a few seconds
// (restarted, or too busy to answer within the client's timeout under
// load) is waited for, so the bound holds; only an outage longer than FailWait lets the
// caller through. Before, the first failed command let it through at
// once: a loaded CI run wrote without the gate.
func TestGateRidesOutABriefRedisOutage(t *testing.T) {
	rs := testdb.StartRedis(t)
	c := client(t, rs.Addr)
	g := &dbgate.Gate{Client: c, Key: "gate", FailWait: 10 * time.Second}
	rs.Stop()
	type result struct {
		release func()
		err     error
	}
	got := make(chan result, 1)
	go func() {
		release, err := g.Acquire(context.Background())
		got <- result{release, err}
	}()
	time.Sleep(2 * time.Second) // beyond the client's own retries (about 1 s)
	rs.Start(t)
	r := <-got
	if r.err != nil || r.release == nil {
		t.Fatalf("acquire across a 2 s outage: release %v, %v; want a place", r.release != nil, r.err)
	}
	if n := c.ZCard(context.Background(), "gate").Val(); n != 1 {
		t.Fatalf("%d holders recorded, want the one that got in", n)
	}
	r.release()
}
