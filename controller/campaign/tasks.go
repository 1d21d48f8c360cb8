package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api/schema"
)

// TaskQueue is what the reconciler needs of the job queue.
type TaskQueue interface {
	// EnqueueRun enqueues a run task; one already queued with the same ID
	// is success.
	EnqueueRun(ctx context.Context, t schema.RunTask) error
	// EnqueueBuild enqueues a build task; one already queued is success.
	EnqueueBuild(ctx context.Context, t schema.BuildTask) error
	// BuildQueued reports whether a live build task for key exists.
	BuildQueued(ctx context.Context, key string) (bool, error)
	// RunTasks lists the live run tasks of (campaign, uid), by run number,
	// with their state ("pending", "scheduled", "retry", schema.TaskHeld or
	// schema.TaskActive).
	RunTasks(ctx context.Context, campaign, uid string) (map[int]string, error)
	// DeadRuns lists the run tasks of (campaign, uid) that the queue gave
	// up on (archived: a worker refused them, or their retries ran out).
	DeadRuns(ctx context.Context, campaign, uid string) ([]TaskFailure, error)
	// RetryingRuns lists the run tasks of (campaign, uid) that wait for
	// the queue to retry them after a worker's error.
	RetryingRuns(ctx context.Context, campaign, uid string) ([]TaskFailure, error)
	// BuildFailure returns the build task of key if a builder failed it:
	// Dead when the queue gave up on it, else waiting for a retry.
	BuildFailure(ctx context.Context, key string) (*TaskFailure, error)
	// Bury deletes a dead task whose outcome is recorded.
	Bury(ctx context.Context, t TaskFailure) error
	// Unqueue deletes the not-yet-active run tasks of campaign whose uid is
	// uid ("" = any uid) or, with others, whose uid is not uid. It returns
	// the run numbers removed for uid (when !others).
	Unqueue(ctx context.Context, campaign, uid string, others bool) ([]int, error)
}

// AsynqQueue is TaskQueue on asynq.
type AsynqQueue struct {
	Client    *asynq.Client
	Inspector *asynq.Inspector
	Redis     redis.UniversalClient
	// MaxRetry is asynq's retry budget for infrastructure failures a worker
	// reports (simulation failures are not asynq failures). Default 10.
	MaxRetry int
}

// NewAsynqQueue builds the queue on an existing go-redis client.
func NewAsynqQueue(rdb redis.UniversalClient) *AsynqQueue {
	return &AsynqQueue{Client: asynq.NewClientFromRedisClient(rdb), Inspector: asynq.NewInspectorFromRedisClient(rdb),
		Redis: rdb, MaxRetry: 10}
}

// asynqQueuesKey is asynq's set of known queues. Its client registers a
// queue there only once per process, so after Redis lost everything the
// Inspector would not see tasks enqueued since; registering before each
// inspection keeps it truthful.
const asynqQueuesKey = "asynq:queues"

func (q *AsynqQueue) register(ctx context.Context) error {
	if q.Redis == nil {
		return nil
	}
	if err := q.Redis.SAdd(ctx, asynqQueuesKey, schema.QueueRun, schema.QueueBuild).Err(); err != nil {
		return fmt.Errorf("register queues: %w", err)
	}
	return nil
}

func (q *AsynqQueue) enqueue(ctx context.Context, queue, typ, id string, payload []byte, timeout time.Duration) error {
	task := asynq.NewTask(typ, payload)
	opts := []asynq.Option{asynq.Queue(queue), asynq.TaskID(id), asynq.MaxRetry(q.MaxRetry), asynq.Timeout(timeout)}
	for attempt := 0; attempt < 2; attempt++ {
		_, err := q.Client.EnqueueContext(ctx, task, opts...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
			return fmt.Errorf("enqueue %s: %w", id, err)
		}
		info, ierr := q.taskInfo(ctx, queue, id)
		if ierr != nil {
			if errors.Is(ierr, asynq.ErrTaskNotFound) {
				continue // gone meanwhile: try again
			}
			return fmt.Errorf("inspect %s: %w", id, ierr)
		}
		switch info.State {
		case asynq.TaskStateArchived, asynq.TaskStateCompleted:
			// A dead or retained task holds the ID: the run needs a new go.
			if err := q.Inspector.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return fmt.Errorf("delete stale %s: %w", id, err)
			}
		default:
			return nil // already live: deduplicated
		}
	}
	return fmt.Errorf("enqueue %s: task ID kept conflicting", id)
}

// EnqueueRun implements TaskQueue.
func (q *AsynqQueue) EnqueueRun(ctx context.Context, t schema.RunTask) error {
	b, err := schema.Marshal(t)
	if err != nil {
		return err
	}
	// asynq's own deadline only backstops the worker's run timeouts (one
	// per run of a batch).
	return q.enqueue(ctx, schema.QueueRun, schema.TypeRun, t.TaskID(), b,
		t.Timeout.Duration*time.Duration(len(t.Items()))+5*time.Minute)
}

// EnqueueBuild implements TaskQueue.
func (q *AsynqQueue) EnqueueBuild(ctx context.Context, t schema.BuildTask) error {
	b, err := schema.Marshal(t)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, schema.QueueBuild, schema.TypeBuild, schema.BuildTaskID(t.Key), b, 6*time.Hour)
}

// BuildQueued implements TaskQueue.
func (q *AsynqQueue) BuildQueued(ctx context.Context, key string) (bool, error) {
	if err := q.register(ctx); err != nil {
		return false, err
	}
	info, err := q.taskInfo(ctx, schema.QueueBuild, schema.BuildTaskID(key))
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect build task: %w", err)
	}
	return info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted, nil
}

// stateRetry is the listing state of a task that waits for the queue to
// retry it after a worker's error.
const stateRetry = "retry"

type lister func(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)

// liveStates is the listing order: pending before active, so a task moving
// from one to the other while we list is seen in the second.
func (q *AsynqQueue) liveStates() []struct {
	name string
	list lister
} {
	return []struct {
		name string
		list lister
	}{
		{"pending", q.Inspector.ListPendingTasks},
		{"scheduled", q.Inspector.ListScheduledTasks},
		{stateRetry, q.Inspector.ListRetryTasks},
		{schema.TaskActive, q.Inspector.ListActiveTasks},
	}
}

// parseRunTaskID splits "run:<campaign>:<uid8>:<runs>:<attempt>", where
// runs is one run or a batch's list of ranges (schema.RunTask.TaskID).
func parseRunTaskID(id string) (campaign, uid8 string, runs []int, ok bool) {
	campaign, uid8, runs, _, ok = parseRunTaskIDAttempt(id)
	return campaign, uid8, runs, ok
}

func parseRunTaskIDAttempt(id string) (campaign, uid8 string, runs []int, attempt int, ok bool) {
	if !strings.HasPrefix(id, "run:") {
		return "", "", nil, 0, false
	}
	parts := strings.Split(id[len("run:"):], ":")
	if len(parts) < 4 {
		return "", "", nil, 0, false
	}
	n := len(parts)
	runs, err := schema.ParseRuns(parts[n-2])
	if err != nil {
		return "", "", nil, 0, false
	}
	a, err := strconv.Atoi(parts[n-1])
	if err != nil {
		return "", "", nil, 0, false
	}
	return strings.Join(parts[:n-3], ":"), parts[n-3], runs, a, true
}

// taskRuns lists the runs of a run task with the attempts it carries: of
// a batch from its payload, else from its ID.
func taskRuns(t *asynq.TaskInfo, runs []int, attempt int) []schema.RunItem {
	if len(runs) == 1 {
		return []schema.RunItem{{Run: runs[0], Attempt: attempt}}
	}
	var rt schema.RunTask
	if err := json.Unmarshal(t.Payload, &rt); err == nil && len(rt.Runs) == len(runs) {
		return rt.Items()
	}
	out := make([]schema.RunItem, len(runs))
	for i, r := range runs {
		out[i] = schema.RunItem{Run: r, Attempt: attempt}
	}
	return out
}

func uidPrefix(uid string) string {
	if len(uid) > 8 {
		return uid[:8]
	}
	return uid
}

const pageSize = 1000

func (q *AsynqQueue) each(list lister, f func(*asynq.TaskInfo) error) error {
	for page := 1; ; page++ {
		tasks, err := list(schema.QueueRun, asynq.PageSize(pageSize), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list run tasks: %w", err)
		}
		for _, t := range tasks {
			if err := f(t); err != nil {
				return err
			}
		}
		if len(tasks) < pageSize {
			return nil
		}
	}
}

// RunTasks implements TaskQueue.
func (q *AsynqQueue) RunTasks(ctx context.Context, campaign, uid string) (map[int]string, error) {
	if err := q.register(ctx); err != nil {
		return nil, err
	}
	out := map[int]string{}
	u := uidPrefix(uid)
	for _, st := range q.liveStates() {
		err := q.each(st.list, func(t *asynq.TaskInfo) error {
			if c, tu, runs, ok := parseRunTaskID(t.ID); ok && c == campaign && tu == u {
				state := st.name
				if st.name == schema.TaskActive && string(t.Result) != schema.TaskStarted {
					state = schema.TaskHeld // prefetched, waiting for a slot
				}
				for _, run := range runs {
					out[run] = state
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TaskFailure is a task a worker failed, with the last error it reported:
// the queue gave up on it (Dead, archived) or retries it later.
type TaskFailure struct {
	Queue, ID string
	// Run and Attempt: of a run task (Attempt as the task carried it).
	Run, Attempt int
	Err          string
	Dead         bool
}

// failedRuns lists the run tasks of (campaign, uid) in one state.
func (q *AsynqQueue) failedRuns(ctx context.Context, campaign, uid string, list lister, dead bool) ([]TaskFailure, error) {
	if err := q.register(ctx); err != nil {
		return nil, err
	}
	var out []TaskFailure
	u := uidPrefix(uid)
	err := q.each(list, func(t *asynq.TaskInfo) error {
		if c, tu, runs, attempt, ok := parseRunTaskIDAttempt(t.ID); ok && c == campaign && tu == u {
			// One failure per run of a batch: each is recorded on its own
			// record (Bury of the shared ID after the first is a no-op).
			for _, it := range taskRuns(t, runs, attempt) {
				out = append(out, TaskFailure{Queue: schema.QueueRun, ID: t.ID, Run: it.Run, Attempt: it.Attempt, Err: t.LastErr, Dead: dead})
			}
		}
		return nil
	})
	return out, err
}

// DeadRuns implements TaskQueue.
func (q *AsynqQueue) DeadRuns(ctx context.Context, campaign, uid string) ([]TaskFailure, error) {
	return q.failedRuns(ctx, campaign, uid, q.Inspector.ListArchivedTasks, true)
}

// RetryingRuns implements TaskQueue.
func (q *AsynqQueue) RetryingRuns(ctx context.Context, campaign, uid string) ([]TaskFailure, error) {
	return q.failedRuns(ctx, campaign, uid, q.Inspector.ListRetryTasks, false)
}

// BuildFailure implements TaskQueue.
func (q *AsynqQueue) BuildFailure(ctx context.Context, key string) (*TaskFailure, error) {
	if err := q.register(ctx); err != nil {
		return nil, err
	}
	id := schema.BuildTaskID(key)
	info, err := q.taskInfo(ctx, schema.QueueBuild, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect build task: %w", err)
	}
	dead := info.State == asynq.TaskStateArchived
	if !dead && (info.State != asynq.TaskStateRetry || info.LastErr == "") {
		return nil, nil
	}
	return &TaskFailure{Queue: schema.QueueBuild, ID: id, Err: info.LastErr, Dead: dead}, nil
}

// Bury implements TaskQueue.
func (q *AsynqQueue) Bury(ctx context.Context, t TaskFailure) error {
	if err := q.Inspector.DeleteTask(t.Queue, t.ID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return fmt.Errorf("delete dead task %s: %w", t.ID, err)
	}
	return nil
}

// Unqueue implements TaskQueue. Active tasks are left to finish.
func (q *AsynqQueue) Unqueue(ctx context.Context, campaign, uid string, others bool) ([]int, error) {
	if err := q.register(ctx); err != nil {
		return nil, err
	}
	u := uidPrefix(uid)
	var removed []int
	for _, st := range q.liveStates()[:3] {
		var ids []string
		var runs [][]int
		err := q.each(st.list, func(t *asynq.TaskInfo) error {
			c, tu, rs, ok := parseRunTaskID(t.ID)
			if !ok || c != campaign {
				return nil
			}
			if uid == "" || (others && tu != u) || (!others && tu == u) {
				ids = append(ids, t.ID)
				runs = append(runs, rs)
			}
			return nil
		})
		if err != nil {
			return removed, err
		}
		for i, id := range ids {
			err := q.Inspector.DeleteTask(schema.QueueRun, id)
			if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return removed, fmt.Errorf("delete task %s: %w", id, err)
			}
			if err == nil && !others {
				removed = append(removed, runs[i]...)
			}
		}
	}
	return removed, nil
}
