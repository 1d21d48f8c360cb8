package campaign

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// giveUp plays a worker that refuses every task of queue (as one that
// cannot read a payload does) until want tasks are archived: the queue
// gives up on them, keeping the error.
func (e *env) giveUp(t *testing.T, queue string, want int) {
	t.Helper()
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeRun, func(context.Context, *asynq.Task) error {
		return fmt.Errorf("garbled payload: %w", asynq.SkipRetry)
	})
	mux.HandleFunc(schema.TypeBuild, func(context.Context, *asynq.Task) error {
		return fmt.Errorf("garbled payload: %w", asynq.SkipRetry)
	})
	srv := asynq.NewServerFromRedisClient(redis.NewClient(&redis.Options{Addr: e.rdb.Options().Addr}),
		asynq.Config{Concurrency: 2, Queues: map[string]int{queue: 1}, LogLevel: asynq.FatalLevel})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	deadline := time.Now().Add(20 * time.Second)
	for {
		dead, _ := e.q.Inspector.ListArchivedTasks(queue)
		if len(dead) >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks archived", len(dead), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTasksTheQueueGaveUpOnAreRecordedFailures: a run task that the queue
// archived (a worker refused it, or its retries ran out) is a failed
// attempt on the run's record, with the worker's error, counted against
// the run's retries, instead of a run that stays Pending and is sent again
// for ever; when the attempts are used up the campaign fails.
func TestTasksTheQueueGaveUpOnAreRecordedFailures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.built(t, "dead", "0..1")
	uid := c.Metadata.UID
	for attempt := 1; attempt <= 3; attempt++ {
		e.giveUp(t, schema.QueueRun, 2)
		e.reconcile(t, "dead")
		for run := range 2 {
			r, err := e.st.GetRun(ctx, "dead", uid, run)
			if err != nil {
				t.Fatal(err)
			}
			if r.Attempts != attempt || !strings.Contains(r.Message, "garbled payload") {
				t.Fatalf("after %d archived attempts: run %d record %+v, want %d attempts and the worker's error",
					attempt, run, r, attempt)
			}
		}
		if dead, _ := e.q.Inspector.ListArchivedTasks(schema.QueueRun); len(dead) != 0 {
			t.Fatalf("%d archived tasks left after their outcome was recorded", len(dead))
		}
	}
	e.reconcile(t, "dead")
	c, _ = e.st.Get(ctx, "dead")
	if c.Status.Phase != api.PhaseFailed || c.Status.Runs.Failed != 2 || len(e.tasks(t, "dead", uid)) != 0 {
		t.Fatalf("after 3 attempts each: status %+v, %d tasks", c.Status, len(e.tasks(t, "dead", uid)))
	}
}

// TestBuildTaskTheQueueGaveUpOnFailsTheBuild: an archived build task fails
// the build with the builder's error, instead of a campaign that says
// Building for ever.
func TestBuildTaskTheQueueGaveUpOnFailsTheBuild(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.st.Create(ctx, newCampaign("nobuild", "0..1")); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "nobuild")
	e.giveUp(t, schema.QueueBuild, 1)
	e.reconcile(t, "nobuild")
	c, _ := e.st.Get(ctx, "nobuild")
	b, err := e.st.GetBuild(ctx, c.Status.Build.Key)
	if err != nil {
		t.Fatal(err)
	}
	if b.State != schema.BuildFailed || !strings.Contains(b.LogTail, "garbled payload") {
		t.Fatalf("build record %+v, want Failed with the builder's error", b)
	}
	if c.Status.Phase != api.PhaseFailed || cond(c.Status, api.ConditionStalled).Reason != ReasonBuildFailed ||
		!strings.Contains(c.Status.Build.Message, "garbled payload") {
		t.Fatalf("status %+v", c.Status)
	}
	_ = store.ErrNotFound
}

// TestFailedBuildBlocksItsRuns: a campaign whose build failed counted its
// runs as Pending, as if they were going to run. They are Blocked, and
// the status says how many.
func TestFailedBuildBlocksItsRuns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.st.Create(ctx, newCampaign("blocked", "0..9")); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "blocked")
	c, _ := e.st.Get(ctx, "blocked")
	if _, err := e.st.FailBuild(ctx, c.Status.Build.Key, "make: *** [all] Error 1"); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "blocked")
	c, _ = e.st.Get(ctx, "blocked")
	r := c.Status.Runs
	if c.Status.Phase != api.PhaseFailed || r.Pending != 0 || r.Blocked != 10 || r.Total != 10 {
		t.Fatalf("status %+v, want Failed with 10 runs blocked and none pending", c.Status)
	}
	if m := cond(c.Status, api.ConditionStalled).Message; !strings.Contains(m, "10 runs blocked") || !strings.Contains(m, "Error 1") {
		t.Fatalf("Stalled says %q", m)
	}
}
