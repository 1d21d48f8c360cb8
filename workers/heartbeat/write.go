package heartbeat

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
)

// pokeGap is the shortest time between two beats: a worker whose short
// runs keep leaving it idle does not beat on every run.
const pokeGap = time.Second

// Writer publishes one worker's heartbeat: what its slots carry out,
// under Key(name) with TTL, every Every and soon after an idle worker took
// a task.
type Writer struct {
	rdb         redis.UniversalClient
	name, role  string
	slots       int
	log         *zap.Logger
	mu          sync.Mutex
	next        int
	tasks       map[int]string
	since       time.Time
	waiting     string
	lastFailure bool
	// poke asks for a beat soon: a worker that was idle took a task.
	poke chan struct{}
}

// NewWriter returns the Writer of the worker called name; log (nil: none)
// hears of failed writes.
func NewWriter(rdb redis.UniversalClient, name, role string, slots int, log *zap.Logger) *Writer {
	if log == nil {
		log = zap.NewNop()
	}
	return &Writer{rdb: rdb, name: name, role: role, slots: slots, log: log, tasks: map[int]string{},
		poke: make(chan struct{}, 1)}
}

// Track says a slot took task ("aloha run 7"); calling what it returns
// says the task ended. It is the Track of runner.Handler and
// builder.Handler.
func (w *Writer) Track(task string) (done func()) {
	w.mu.Lock()
	id := w.next
	w.next++
	wasIdle := len(w.tasks) == 0
	w.tasks[id] = task
	w.since = time.Now().UTC()
	w.mu.Unlock()
	if wasIdle {
		// Say what it runs now rather than at the next periodic beat,
		// which may come after the run: the record is not written before
		// the outcome, so the heartbeat is where a run shows as started.
		select {
		case w.poke <- struct{}{}:
		default:
		}
	}
	return func() {
		w.mu.Lock()
		delete(w.tasks, id)
		w.mu.Unlock()
	}
}

// SetSlots announces a new slot count and why the worker waits ("": it
// takes tasks), at the next beat, which it asks for now: a runner sized by
// its node's published count changes both.
func (w *Writer) SetSlots(slots int, waiting string) {
	w.mu.Lock()
	w.slots, w.waiting = slots, waiting
	w.mu.Unlock()
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// Run beats until ctx ends; the entry then lives on for its TTL (see
// Withdraw).
func (w *Writer) Run(ctx context.Context) {
	t := time.NewTicker(Every)
	defer t.Stop()
	for {
		last := time.Now()
		w.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.poke:
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(last.Add(pokeGap))):
			}
		}
	}
}

func (w *Writer) beat(ctx context.Context) {
	w.mu.Lock()
	tasks := make([]string, 0, len(w.tasks))
	for _, t := range w.tasks {
		tasks = append(tasks, t)
	}
	since, slots, waiting := w.since, w.slots, w.waiting
	w.mu.Unlock()
	sort.Strings(tasks)
	// "task" is the one-line summary; "tasks" lists each slot's.
	body, _ := json.Marshal(Beat{Name: w.name, Role: w.role, Slots: slots,
		Task: strings.Join(tasks, ", "), Tasks: tasks, Since: since, Waiting: waiting})
	err := w.rdb.Set(ctx, Key(w.name), body, TTL).Err()
	// Say it once per outage, not every beat.
	if err != nil && !errors.Is(err, context.Canceled) && !w.lastFailure {
		w.log.Warn("heartbeat failed", zap.Error(err))
	}
	w.lastFailure = err != nil
}

// Withdraw deletes the worker's entry, so that a worker that stopped is
// gone from the readers at once, not a TTL later. Call it after Run
// returned.
func (w *Writer) Withdraw(ctx context.Context) error {
	return w.rdb.Del(ctx, Key(w.name)).Err()
}
