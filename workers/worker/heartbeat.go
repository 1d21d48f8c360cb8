package worker

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/jobs"
)

// HeartbeatEvery and HeartbeatTTL: a worker's key disappears within a TTL
// of its death, so dashboards only list live workers.
const (
	HeartbeatEvery = 10 * time.Second
	HeartbeatTTL   = 30 * time.Second
)

// pokeGap is the shortest time between two beats: a worker whose short
// runs keep leaving it idle does not beat on every run.
const pokeGap = time.Second

// heartbeat publishes what the worker is doing under schema.WorkerKey, with
// a TTL so that a dead worker's entry expires.
type heartbeat struct {
	rdb         *redis.Client
	name, role  string
	slots       int
	mu          sync.Mutex
	next        int
	tasks       map[int]string
	since       time.Time
	log         *zap.Logger
	lastFailure bool
	// poke asks for a beat soon: a worker that was idle took a task.
	poke chan struct{}
}

func newHeartbeat(rdb *redis.Client, name, role string, slots int, log *zap.Logger) *heartbeat {
	return &heartbeat{rdb: rdb, name: name, role: role, slots: slots, tasks: map[int]string{}, log: log,
		poke: make(chan struct{}, 1)}
}

func (h *heartbeat) track(task string) func() {
	h.mu.Lock()
	id := h.next
	h.next++
	wasIdle := len(h.tasks) == 0
	h.tasks[id] = task
	h.since = time.Now().UTC()
	h.mu.Unlock()
	if wasIdle {
		// Say what it runs now rather than at the next periodic beat,
		// which may come after the run: the record is not written before
		// the outcome, so the heartbeat is where a run shows as started.
		select {
		case h.poke <- struct{}{}:
		default:
		}
	}
	return func() {
		h.mu.Lock()
		delete(h.tasks, id)
		h.mu.Unlock()
	}
}

func (h *heartbeat) loop(ctx context.Context) {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		last := time.Now()
		h.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.poke:
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(last.Add(pokeGap))):
			}
		}
	}
}

func (h *heartbeat) beat(ctx context.Context) {
	h.mu.Lock()
	tasks := make([]string, 0, len(h.tasks))
	for _, t := range h.tasks {
		tasks = append(tasks, t)
	}
	since := h.since
	h.mu.Unlock()
	sort.Strings(tasks)
	// "task" is the contract's one-line summary; "tasks" lists each slot's.
	body, _ := json.Marshal(jobs.Heartbeat{Name: h.name, Role: h.role, Slots: h.slots,
		Task: strings.Join(tasks, ", "), Tasks: tasks, Since: since})
	err := h.rdb.Set(ctx, schema.WorkerKey(h.name), body, HeartbeatTTL).Err()
	// Say it once per outage, not every 10 s.
	if err != nil && !errors.Is(err, context.Canceled) && !h.lastFailure {
		h.log.Warn("heartbeat failed", zap.Error(err))
	}
	h.lastFailure = err != nil
}

// withdraw deletes the worker's entry: a stopped worker is gone from the
// dashboards at once, not a TTL later.
func (h *heartbeat) withdraw() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = h.rdb.Del(ctx, schema.WorkerKey(h.name)).Err()
}
