package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// TestRunnerOfANodeRunsItsPublishedSlots: a runner started with its node's
// ID (as the global runner service starts it) waits, taking no tasks and
// saying so in its heartbeat, until a slot count is published for its
// node; then it takes tasks with that many slots (and prefetch per slot);
// a changed count re-sizes it without a restart of the process; a wiped
// Redis (no count) leaves it as it is rather than guessing; a count of 0
// makes it wait again. Another node's count is not its own, and a count
// no controller publishes is not read.
func TestRunnerOfANodeRunsItsPublishedSlots(t *testing.T) {
	rs, mongoURI := testdb.StartRedis(t), testdb.StartMongo(t)
	ropt, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	insp := asynq.NewInspectorFromRedisClient(rdb)
	ctx := context.Background()
	rdb.HSet(ctx, schema.RunnerSlotsKey, "node-b", "7")

	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(wctx, Config{Role: RoleRun, Name: "n-a", NodeID: "node-a", Redis: ropt, MongoURI: mongoURI,
			Cache: t.TempDir(), Prefetch: -1, ShutdownGrace: time.Second, SlotsCheck: 50 * time.Millisecond})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	// state is the runner's heartbeat and the concurrency of the queue
	// servers it runs (asynq's own record of them).
	state := func() (heartbeat.Beat, []int, string) {
		var hb heartbeat.Beat
		v, err := rdb.Get(ctx, heartbeat.Key("n-a")).Result()
		if err == nil {
			err = json.Unmarshal([]byte(v), &hb)
		}
		servers, serr := insp.Servers()
		var conc []int
		for _, s := range servers {
			conc = append(conc, s.Concurrency)
		}
		return hb, conc, fmt.Sprintf("heartbeat %+v (%v), servers %v (%v)", hb, err, conc, serr)
	}
	waitState := func(what string, ok func(heartbeat.Beat, []int) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			hb, conc, st := state()
			if ok(hb, conc) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30s; %s", what, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waiting := func(hb heartbeat.Beat, conc []int) bool {
		return hb.Name == "n-a" && hb.Slots == 0 && hb.Waiting != "" && hb.ActiveSlots() == 0 && len(conc) == 0
	}
	sized := func(n int) func(heartbeat.Beat, []int) bool {
		return func(hb heartbeat.Beat, conc []int) bool {
			return hb.Slots == n && hb.Waiting == "" && len(conc) == 1 && conc[0] == 2*n
		}
	}

	waitState("waiting for its node's count", waiting)
	// It stays so: it never guesses a count.
	time.Sleep(300 * time.Millisecond)
	if hb, conc, st := state(); !waiting(hb, conc) {
		t.Fatalf("a runner without a published count took tasks: %s", st)
	}
	t.Logf("waiting says %q", func() string { hb, _, _ := state(); return hb.Waiting }())

	rdb.HSet(ctx, schema.RunnerSlotsKey, "node-a", "3")
	waitState("3 slots, 3 tasks prefetched", sized(3))
	// A count no controller publishes (above api.MaxNodeSlots) is not
	// read: the runner keeps its slots.
	rdb.HSet(ctx, schema.RunnerSlotsKey, "node-a", "100000")
	time.Sleep(300 * time.Millisecond)
	if hb, conc, st := state(); !sized(3)(hb, conc) {
		t.Fatalf("a runner took an impossible count: %s", st)
	}
	rdb.HSet(ctx, schema.RunnerSlotsKey, "node-a", "2")
	waitState("re-sized to 2 slots", sized(2))

	// Redis wiped (the controller publishes again at its next pass): the
	// runner keeps what it was granted.
	rdb.Del(ctx, schema.RunnerSlotsKey)
	time.Sleep(300 * time.Millisecond)
	if hb, conc, st := state(); !sized(2)(hb, conc) {
		t.Fatalf("a runner whose count disappeared changed: %s", st)
	}

	rdb.HSet(ctx, schema.RunnerSlotsKey, "node-a", "0")
	waitState("waiting on a node with no slots", waiting)
}
