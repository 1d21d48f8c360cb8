package campaign

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

func TestFrontierNeedsScan(t *testing.T) {
	at := func(next int) frontier { return frontier{known: true, next: next} }
	cases := []struct {
		name     string
		f        frontier
		pending  int64
		created  int
		inflight int
		want     bool
	}{
		{"no frontier yet (new leader, new generation)", frontier{}, -1, 100, 0, true},
		{"told to rescan", frontier{known: true, next: 10, rescan: true}, -1, 100, 0, true},
		{"cached count: trust the frontier", at(32), -1, 100, 32, false},
		{"fresh count explained by the queue and the runs ahead", at(32), 100, 100, 32, false},
		{"fresh count with runs behind the frontier lacking a task", at(32), 100, 100, 20, true},
		{"at the end, everything in flight", at(100), 5, 100, 5, false},
		{"at the end, a Pending run without a task", at(100), 6, 100, 5, true},
	}
	for _, c := range cases {
		if got := c.f.needsScan(c.pending, c.created, c.inflight); got != c.want {
			t.Errorf("%s: needsScan = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDispatchFollowsTheFrontierAndRescansBehindIt: once a pass has
// scanned, refills come from the expanded run list without reading run
// records (a record changed behind the controller's back is not consulted:
// the worker is what skips a run already done), and a run sent back to
// Pending behind the frontier is found as soon as a fresh count shows it.
func TestDispatchFollowsTheFrontierAndRescansBehindIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid := e.built(t, "fr", "0..99").Metadata.UID // the first pass scanned: runs 0..31
	if got := e.tasks(t, "fr", uid); len(got) != 32 {
		t.Fatalf("%d tasks, want 32", len(got))
	}
	insp := asynq.NewInspectorFromRedisClient(e.rdb)
	finish := func(run int) {
		t.Helper()
		if ok, err := e.st.SetRunState(ctx, store.RunID("fr", uid, run), schema.RunPending, schema.RunSucceeded, ""); !ok || err != nil {
			t.Fatalf("finish run %d: %v %v", run, ok, err)
		}
		if err := insp.DeleteTask(schema.QueueRun, schema.RunTaskID("fr", uid, run, 0)); err != nil {
			t.Fatalf("delete task of run %d: %v", run, err)
		}
	}
	for run := range 10 {
		finish(run)
	}
	// Run 35 is past the frontier; someone else's worker ran it.
	if ok, _ := e.st.SetRunState(ctx, store.RunID("fr", uid, 35), schema.RunPending, schema.RunSucceeded, ""); !ok {
		t.Fatal("set run 35")
	}
	e.reconcile(t, "fr")
	got := e.tasks(t, "fr", uid)
	for run := 10; run < 42; run++ {
		if _, ok := got[run]; !ok {
			t.Fatalf("run %d has no task after the refill; tasks %v", run, got)
		}
	}
	if len(got) != 32 {
		t.Fatalf("%d tasks after the refill, want 32", len(got))
	}

	// Run 35's stale task is acked; a retry sends run 3 back to Pending,
	// behind the frontier.
	if err := insp.DeleteTask(schema.QueueRun, schema.RunTaskID("fr", uid, 35, 0)); err != nil {
		t.Fatal(err)
	}
	finish(10)
	if ok, _ := e.st.SetRunState(ctx, store.RunID("fr", uid, 3), schema.RunSucceeded, schema.RunPending, ""); !ok {
		t.Fatal("set run 3 back to Pending")
	}
	e.r.states["fr"].counts = countEntry{} // the next pass counts afresh
	e.reconcile(t, "fr")
	if _, ok := e.tasks(t, "fr", uid)[3]; !ok {
		t.Fatal("run 3, Pending again behind the frontier, was not dispatched after a fresh count")
	}
}
