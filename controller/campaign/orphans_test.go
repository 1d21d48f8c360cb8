package campaign

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

// TestEnqueueAfterRedisWipeHealsALateWorkersTaskHash: the manager's
// engine restarts, Redis (no persistence) comes back empty, and a runner
// on another node, still busy with a run of the old queue, marks it
// started (asynq's ResultWriter: HSET on the task's hash). That leaves a
// hash holding only the result under the task's ID. The controller,
// rebuilding the queue from the run records, must still enqueue the run:
// before, asynq refused the ID as taken, could not read the half hash
// ("" is not supported task state), and the campaign's reconcile failed
// on it for ever with nothing queued (TestMultihostSwarm/manager-restart
// stalled with 30 runs pending).
func TestEnqueueAfterRedisWipeHealsALateWorkersTaskHash(t *testing.T) {
	// The controller lived through the wipe (only Redis restarted), or
	// came back with it (the manager's engine restarted).
	for _, restarted := range []bool{false, true} {
		t.Run(map[bool]string{false: "same-controller", true: "restarted-controller"}[restarted], func(t *testing.T) {
			enqueueAfterWipe(t, restarted)
		})
	}
}

func enqueueAfterWipe(t *testing.T, restarted bool) {
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	q := NewAsynqQueue(rdb)
	ctx := context.Background()
	task := schema.RunTask{Campaign: "c", UID: "0123456789abcdef", Run: 3, Timeout: api.Duration{Duration: time.Minute}}
	id := schema.RunTaskID(task.Campaign, task.UID, task.Run, task.Attempt)
	if err := q.EnqueueRun(ctx, task); err != nil {
		t.Fatal(err)
	}
	// Redis restarts empty; the late runner writes its mark.
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, "asynq:{"+schema.QueueRun+"}:t:"+id, "result", schema.TaskStarted).Err(); err != nil {
		t.Fatal(err)
	}
	if restarted {
		q = NewAsynqQueue(rdb) // a new process: its asynq client registers the queue again
	}
	if err := q.EnqueueRun(ctx, task); err != nil {
		t.Fatalf("enqueue after the wipe: %v", err)
	}
	info, err := q.Inspector.GetTaskInfo(schema.QueueRun, id)
	if err != nil {
		t.Fatalf("the run's task after the enqueue: %v", err)
	}
	if info.State != asynq.TaskStatePending || len(info.Payload) == 0 {
		t.Errorf("task %s: state %v, %d payload bytes; want pending with its payload", id, info.State, len(info.Payload))
	}
	tasks, err := q.RunTasks(ctx, task.Campaign, task.UID)
	if err != nil {
		t.Fatal(err)
	}
	if tasks[task.Run] != "pending" {
		t.Errorf("live run tasks: %v, want run %d pending", tasks, task.Run)
	}

	// A live task is never taken for a half one: enqueueing it again
	// leaves it as it is.
	if err := q.EnqueueRun(ctx, task); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.LLen(ctx, "asynq:{"+schema.QueueRun+"}:pending").Result(); err != nil || n != 1 {
		t.Errorf("pending list holds %d tasks (%v), want 1", n, err)
	}
}
