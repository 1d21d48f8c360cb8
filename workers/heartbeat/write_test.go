package heartbeat

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/test/testdb"
)

// TestWriterSaysAtOnceWhatAnIdleWorkerTook: the first beat announces the
// worker idle with a TTL; a task taken by an idle worker shows within a
// second (not at the next periodic beat, which may come after the run);
// Withdraw removes the entry.
func TestWriterSaysAtOnceWhatAnIdleWorkerTook(t *testing.T) {
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx := context.Background()
	w := NewWriter(rdb, "node1-run-7", RoleRun, 2, nil)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()

	read := func(want func(Beat) bool) Beat {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			beats, err := Read(ctx, rdb)
			if err != nil {
				t.Fatal(err)
			}
			if len(beats) == 1 && want(beats[0]) {
				return beats[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("heartbeats %+v", beats)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b := read(func(b Beat) bool { return true })
	if b.Name != "node1-run-7" || b.Role != RoleRun || b.Slots != 2 || b.Task != "" || len(b.Tasks) != 0 ||
		!b.Since.IsZero() || b.TTL <= 0 || b.TTL > TTL {
		t.Fatalf("first beat %+v, want an idle runner of 2 slots with a TTL", b)
	}
	took := time.Now()
	end := w.Track("aloha run 7")
	b = read(func(b Beat) bool { return b.Task != "" })
	if time.Since(took) > 2*pokeGap || b.Task != "aloha run 7" || len(b.Tasks) != 1 || b.Since.IsZero() {
		t.Fatalf("after %s: %+v, want aloha run 7 within %s", time.Since(took), b, 2*pokeGap)
	}
	w.Track("aloha run 8")
	end()
	stop()
	<-done
	if err := w.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, Key("node1-run-7")).Val(); n != 0 {
		t.Fatal("Withdraw left the entry")
	}
}

// TestSetSlotsShowsAtOnceAndWaitingCountsNone: a runner re-sized to its
// node's count says so within a second, not at the next periodic beat; a
// waiting runner (no count yet) counts no slots in RunSlots, which sizes
// the controller's queue window.
func TestSetSlotsShowsAtOnceAndWaitingCountsNone(t *testing.T) {
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx := context.Background()
	w := NewWriter(rdb, "node1-run-1", RoleRun, 0, nil)
	w.SetSlots(0, "waiting for the count")
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()
	wait := func(what string, ok func(Beat, int) bool) {
		t.Helper()
		deadline := time.Now().Add(2 * pokeGap)
		for {
			beats, err := Read(ctx, rdb)
			if err != nil {
				t.Fatal(err)
			}
			if len(beats) == 1 && ok(beats[0], RunSlots(beats)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: heartbeats %+v (RunSlots %d)", what, beats, RunSlots(beats))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("waiting, no slots", func(b Beat, n int) bool { return b.Waiting == "waiting for the count" && b.Slots == 0 && n == 0 })
	time.Sleep(pokeGap) // past the first beat's gap
	w.SetSlots(8, "")
	wait("8 slots within 2s", func(b Beat, n int) bool { return b.Waiting == "" && b.Slots == 8 && n == 8 })
}
