package campaign

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// failFor plays a worker that fails every task of queue with err, which
// the queue retries (an hour later), until want tasks wait for a retry.
func (e *env) failFor(t *testing.T, queue string, want int, err error) {
	t.Helper()
	mux := asynq.NewServeMux()
	fail := func(context.Context, *asynq.Task) error { return err }
	mux.HandleFunc(schema.TypeRun, fail)
	mux.HandleFunc(schema.TypeBuild, fail)
	srv := asynq.NewServerFromRedisClient(redis.NewClient(&redis.Options{Addr: e.rdb.Options().Addr}),
		asynq.Config{Concurrency: 2, Queues: map[string]int{queue: 1}, LogLevel: asynq.FatalLevel,
			RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return time.Hour }})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	deadline := time.Now().Add(20 * time.Second)
	for {
		retrying, _ := e.q.Inspector.ListRetryTasks(queue)
		if len(retrying) >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks retrying", len(retrying), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkerFailuresReachTheStatusAndTheLog: a worker's failure that the
// queue retries (a runner that cannot fetch its artifact) and a failed
// attempt a runner recorded show in the campaign's Degraded condition,
// with the reason, and are logged once at warning level, instead of a
// campaign that says Running with no message while the reason sits in
// the queue's task hash.
func TestWorkerFailuresReachTheStatusAndTheLog(t *testing.T) {
	e := newEnv(t)
	core, logs := observer.New(zap.WarnLevel)
	e.r.Logger = zap.New(core)
	ctx := context.Background()
	c := e.built(t, "deg", "0..1")
	uid := c.Metadata.UID
	e.failFor(t, schema.QueueRun, 2, errors.New("artifact for run: open artifact: connection refused"))
	e.reconcile(t, "deg")
	e.reconcile(t, "deg")
	c, _ = e.st.Get(ctx, "deg")
	d := cond(c.Status, api.ConditionDegraded)
	if c.Status.Phase != api.PhaseRunning || d.Status != api.ConditionTrue || d.Reason != ReasonTaskRetrying ||
		!strings.Contains(d.Message, "connection refused") || !strings.Contains(d.Message, "run ") {
		t.Fatalf("status %+v, want Running and Degraded with the worker's error", c.Status)
	}
	if n := logs.FilterMessageSnippet("degraded").Len(); n != 1 {
		t.Fatalf("%d warnings of the degraded campaign, want 1: %v", n, logs.All())
	}

	// A runner recorded a failed attempt (its artifact is corrupt): the
	// run goes back to Pending, and the reason stays in the status.
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := e.st.DB.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": store.RunID("deg", uid, 1)},
		bson.M{"$set": bson.M{"state": schema.RunFailed, "attempts": 1, "updatedAt": time.Now().UTC(),
			"message": "artifact 8cd8: sha256 1f2e does not match the build record's 0a0b"}})
	if err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "deg")
	e.reconcile(t, "deg")
	c, _ = e.st.Get(ctx, "deg")
	d = cond(c.Status, api.ConditionDegraded)
	if d.Status != api.ConditionTrue || d.Reason != ReasonAttemptFailed || !strings.Contains(d.Message, "run 1 attempt 1") ||
		!strings.Contains(d.Message, "does not match") {
		t.Fatalf("status %+v, want Degraded with the recorded failure", c.Status)
	}
	if n := logs.FilterMessageSnippet("degraded").Len(); n != 2 {
		t.Fatalf("%d warnings of the degraded campaign, want 2: %v", n, logs.All())
	}
}

// TestRetryingBuildReachesTheStatus: a build the queue retries after a
// builder's error says so in the status, with the error.
func TestRetryingBuildReachesTheStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.st.Create(ctx, newCampaign("bdeg", "0..1")); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "bdeg")
	e.failFor(t, schema.QueueBuild, 1, errors.New("upload artifact: connection refused"))
	e.reconcile(t, "bdeg")
	c, _ := e.st.Get(ctx, "bdeg")
	d := cond(c.Status, api.ConditionDegraded)
	if c.Status.Phase != api.PhaseBuilding || d.Status != api.ConditionTrue || d.Reason != ReasonBuildRetrying ||
		!strings.Contains(d.Message, "connection refused") {
		t.Fatalf("status %+v, want Building and Degraded with the builder's error", c.Status)
	}
}
