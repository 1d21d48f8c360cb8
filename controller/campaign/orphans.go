package campaign

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// A task hash without the task is what a worker leaves when it writes to
// its task after Redis lost everything: the manager's engine restarted, so
// Redis came back empty, while a runner on another node carried on with a
// run of the old queue and marked it started (asynq's ResultWriter is a
// plain HSET, which creates the hash). asynq then takes the task ID as
// taken but cannot read the task (it has no message and no state), so the
// run could never be enqueued again and its campaign's reconcile failed on
// it for ever. taskInfo removes such a hash and reports the task as not
// found; a hash that holds a task is never touched.

// halfTaskScript deletes KEYS[1] if it exists without asynq's "msg" field
// (atomically: a task enqueued meanwhile carries its message).
var halfTaskScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 and redis.call("HEXISTS", KEYS[1], "msg") == 0 then
	redis.call("DEL", KEYS[1])
	return 1
end
return 0`)

// asynqTaskKey is asynq's key of a task's hash (internal/base.TaskKey,
// stable across asynq releases since 0.18; the test on a real Redis
// notices a change).
func asynqTaskKey(queue, id string) string { return "asynq:{" + queue + "}:t:" + id }

// taskInfo is Inspector.GetTaskInfo that heals a half task hash: it
// registers the queues first (after a wipe the Inspector would not know
// them) and answers asynq.ErrTaskNotFound for a hash it removed.
func (q *AsynqQueue) taskInfo(ctx context.Context, queue, id string) (*asynq.TaskInfo, error) {
	if err := q.register(ctx); err != nil {
		return nil, err
	}
	info, err := q.Inspector.GetTaskInfo(queue, id)
	if err == nil || errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) || q.Redis == nil {
		return info, err
	}
	removed, rerr := halfTaskScript.Run(ctx, q.Redis, []string{asynqTaskKey(queue, id)}).Int()
	if rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	if removed == 1 {
		return nil, asynq.ErrTaskNotFound
	}
	return nil, err
}
