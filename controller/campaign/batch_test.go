package campaign

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

func TestBatchSize(t *testing.T) {
	ms := func(n int64, each time.Duration) runDurations {
		return runDurations{succeeded: n, total: time.Duration(n) * each}
	}
	for _, c := range []struct {
		name           string
		d              runDurations
		waiting, slots int
		want           int
	}{
		{"nothing observed yet", runDurations{}, 10000, 2, firstBatch},
		{"nothing observed, 1,000 runners of 16 slots", runDurations{}, 200000, 16000, 7},
		{"nothing observed, the tail spreads", runDurations{}, 10, 2, 3},
		{"nothing observed nor any slot", runDurations{}, 10000, 0, 1},
		{"runs of a second or more", ms(10, 3*time.Second), 10000, 2, 1},
		{"a second of 10 ms runs", ms(10, 10*time.Millisecond), 10000, 2, 100},
		{"runs below a millisecond", ms(10, 100*time.Microsecond), 100000, 2, maxBatch},
		{"no durations recorded", ms(10, 0), 100000, 2, firstBatch},
		{"the tail spreads over every slot twice", ms(10, 10*time.Millisecond), 40, 2, 10},
		{"the last runs go one per task", ms(10, 200*time.Millisecond), 3, 2, 1},
		{"the tail of tiny runs keeps tasks of minBatchWork", ms(10, 10*time.Millisecond), 3, 2, 3},
		{"tiny runs on 1,000 runners of 16 slots", ms(10, time.Millisecond), 200000, 16000, int(minBatchWork / time.Millisecond)},
		{"tiny runs: a task's work never below minBatchWork", ms(10, 2*time.Millisecond), 20000, 16000, int(minBatchWork / (2 * time.Millisecond))},
		{"slots unknown", ms(10, 10*time.Millisecond), 10000, 0, 100},
	} {
		if got := batchSize(c.d, c.waiting, c.slots); got != c.want {
			t.Errorf("%s: batchSize = %d, want %d", c.name, got, c.want)
		}
	}
	for _, c := range []struct{ window, total, demand, size, slots, want int }{
		{0, 32, 1000, 50, 2, 0},      // no share: others come first
		{12, 32, 1000, 50, 2, 12},    // a share others cut stays as it is
		{32, 32, 1000, 1, 2, 32},     // single runs: the window as it is
		{32, 32, 1000, 50, 2, 200},   // two tasks per slot
		{20, 32, 20, 50, 2, 20},      // its whole demand already
		{32, 32, 120, 50, 2, 120},    // never beyond the demand
		{500, 500, 1000, 50, 2, 500}, // never narrower
	} {
		if got := batchWindow(c.window, c.total, c.demand, c.size, c.slots); got != c.want {
			t.Errorf("batchWindow%v = %d", c, got)
		}
	}
}

// queuedBatches lists the pending run tasks' runs, by task ID, checking
// that each ID names the runs its payload carries.
func (e *env) queuedBatches(t *testing.T) map[string][]int {
	t.Helper()
	tasks, err := e.q.Inspector.ListPendingTasks(schema.QueueRun, asynq.PageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int{}
	for _, tk := range tasks {
		var rt schema.RunTask
		if err := json.Unmarshal(tk.Payload, &rt); err != nil {
			t.Fatal(err)
		}
		var runs []int
		for _, it := range rt.Items() {
			runs = append(runs, it.Run)
		}
		if rt.TaskID() != tk.ID {
			t.Errorf("task %s carries runs %v (ID %s)", tk.ID, runs, rt.TaskID())
		}
		out[tk.ID] = runs
	}
	return out
}

// Short runs: the window's runs go in tasks of several runs each, sized
// from the durations of the runs that succeeded, and the window holds two
// of them per slot; Redis wiped, the queue is
// rebuilt in batches; a batch task the queue gave up on is a failed
// attempt of each of its runs; suspend removes the batches.
func TestShortRunsAreDispatchedInBatches(t *testing.T) {
	e := newEnv(t)
	e.r.Shares.SetSlots(2)
	ctx := context.Background()
	uid := e.buildDone(t, "short", "0..299").Metadata.UID
	e.reconcile(t, "short") // the records, from the program's run list, and the first wave
	// Ten runs of it already took 10 ms each; the rest of it went back.
	if _, err := e.q.Unqueue(ctx, "short", uid, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB.Collection(schema.CollRuns).UpdateMany(ctx, bson.M{"campaign": "short", "run": bson.M{"$lt": 10}},
		bson.M{"$set": bson.M{"state": schema.RunSucceeded, "durationMs": 10}}); err != nil {
		t.Fatal(err)
	}
	e.r.states["short"].counts.valid = false // what workers did shows at the next count
	e.reconcile(t, "short")

	check := func(when string) {
		t.Helper()
		// 290 runs of 10 ms left on 2 slots: batches of ceil(290/4) = 73
		// (the tail spreads over each slot twice), and the window widened
		// to two of them per slot, up to the demand.
		b := e.queuedBatches(t)
		if len(b) != 4 {
			t.Fatalf("%s: %d tasks %v, want the 290 runs in 4 tasks of at most 73", when, len(b), b)
		}
		seen := map[int]bool{}
		for id, runs := range b {
			if len(runs) > 73 || len(runs) < 71 {
				t.Errorf("%s: task %s carries %d runs, want 71 to 73", when, id, len(runs))
			}
			for _, r := range runs {
				if r < 10 || seen[r] {
					t.Errorf("%s: run %d dispatched twice or after it succeeded", when, r)
				}
				seen[r] = true
			}
		}
		if live := e.tasks(t, "short", uid); len(live) != 290 {
			t.Fatalf("%s: %d runs in the queue, want 290", when, len(live))
		}
	}
	check("first dispatch")
	e.reconcile(t, "short")
	check("second pass")

	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "short")
	check("after FLUSHALL")

	// The queue gives up on one batch: each of its runs gets a failed
	// attempt (and, with retries left, goes back to Pending).
	var dead string
	var deadRuns []int
	for id, runs := range e.queuedBatches(t) {
		dead, deadRuns = id, runs
		break
	}
	if err := e.q.Inspector.ArchiveTask(schema.QueueRun, dead); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "short")
	for _, r := range deadRuns {
		rec, err := e.st.Runs(ctx, store.RunQuery{Campaign: "short", UID: uid, After: r - 1, Limit: 1})
		if err != nil || len(rec) != 1 {
			t.Fatal(rec, err)
		}
		if rec[0].Attempts != 1 || rec[0].State != schema.RunPending {
			t.Errorf("run %d of the dead batch: %s with %d attempts, want a failed attempt sent back to Pending", r, rec[0].State, rec[0].Attempts)
		}
	}
	if n, _ := e.q.Inspector.ListArchivedTasks(schema.QueueRun); len(n) != 0 {
		t.Errorf("%d dead tasks left in the queue", len(n))
	}

	c, _ := e.st.Get(ctx, "short")
	c.Spec.Suspend = true
	if _, err := e.st.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "short")
	if live := e.tasks(t, "short", uid); len(live) != 0 {
		t.Fatalf("suspended campaign still has %d runs queued", len(live))
	}
}

// The first wave, while nothing is known of the runs' durations: tasks of
// up to firstBatch runs (not one run each, which flooded the queue and the
// database at 1,000 runners), two of them per slot, none run sent twice;
// Redis wiped, the queue is rebuilt in the same batches; once runs have
// succeeded, the sizes follow their durations.
func TestFirstWaveIsBatchedBeforeDurationsAreKnown(t *testing.T) {
	e := newEnv(t)
	e.r.Shares.SetSlots(2)
	ctx := context.Background()
	uid := e.built(t, "first", "0..299").Metadata.UID

	check := func(when string) {
		t.Helper()
		// 300 runs on 2 slots, nothing known: 4 tasks of 8 runs.
		b := e.queuedBatches(t)
		if len(b) != 4 {
			t.Fatalf("%s: %d tasks %v, want 4 tasks of %d runs", when, len(b), b, firstBatch)
		}
		seen := map[int]bool{}
		for id, runs := range b {
			if len(runs) != firstBatch {
				t.Errorf("%s: task %s carries %d runs, want %d", when, id, len(runs), firstBatch)
			}
			for _, r := range runs {
				if seen[r] {
					t.Errorf("%s: run %d dispatched twice", when, r)
				}
				seen[r] = true
			}
		}
		if live := e.tasks(t, "first", uid); len(live) != 4*firstBatch {
			t.Fatalf("%s: %d runs in the queue, want %d", when, len(live), 4*firstBatch)
		}
	}
	check("first dispatch")
	e.reconcile(t, "first")
	check("second pass")
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "first")
	check("after FLUSHALL")

	// The queued runs ran, 10 ms each: the rest goes in batches sized from
	// that (ceil(268 / 4) = 67 runs, the tail over both slots twice).
	var ran []int
	for r := range e.tasks(t, "first", uid) {
		ran = append(ran, r)
	}
	if _, err := e.q.Unqueue(ctx, "first", uid, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB.Collection(schema.CollRuns).UpdateMany(ctx, bson.M{"campaign": "first", "run": bson.M{"$in": ran}},
		bson.M{"$set": bson.M{"state": schema.RunSucceeded, "durationMs": 10}}); err != nil {
		t.Fatal(err)
	}
	e.r.states["first"].counts.valid = false // what workers did shows at the next count
	e.reconcile(t, "first")
	b := e.queuedBatches(t)
	total := 0
	for id, runs := range b {
		if len(runs) > 67 || len(runs) < 66 {
			t.Errorf("after durations: task %s carries %d runs, want 66 to 67", id, len(runs))
		}
		total += len(runs)
	}
	if total != 300-len(ran) {
		t.Errorf("after durations: %d runs queued, want %d", total, 300-len(ran))
	}
}
