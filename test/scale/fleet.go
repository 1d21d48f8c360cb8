package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/builder"
	"github.com/simswarm/simswarm/workers/jobs"
	"github.com/simswarm/simswarm/workers/runner"
)

// The settings of `simswarm worker` (cmd/simswarm/worker.go) that shape
// its load on Redis; kept equal by hand.
const (
	heartbeatEvery  = 10 * time.Second
	heartbeatTTL    = 30 * time.Second
	emptyQueueCheck = 100 * time.Millisecond
)

// FleetOptions says how many simulated runners to start.
type FleetOptions struct {
	Workers int
	Slots   int // simulations at once per worker (default 16)
	// Prefetch is the tasks a worker holds beyond its slots (default
	// Slots, as `simswarm worker`).
	Prefetch int
	// RunTime is each simulated run's duration.
	RunTime time.Duration
}

// Fleet is a set of simulated runners in this process.
type Fleet struct {
	Workers []*Worker
	slots   int
	// Finished counts the runs whose outcome a worker has recorded.
	Finished atomic.Int64
	// FirstStart is when the first simulation of the fleet began (zero
	// before).
	firstStart atomic.Int64
}

// FirstStart is when the first simulation began, or zero.
func (f *Fleet) FirstStart() time.Time {
	if n := f.firstStart.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Simulated is how many runs the fleet's timers have simulated (a batch
// task simulates several in one invocation).
func (f *Fleet) Simulated() int64 {
	var n int64
	for _, w := range f.Workers {
		n += w.Timer.simulated.Load()
	}
	return n
}

// Calls is how many simulations the fleet started.
func (f *Fleet) Calls() int64 {
	var n int64
	for _, w := range f.Workers {
		n += w.Timer.Calls()
	}
	return n
}

// Worker is one simulated runner: the real runner.Handler under its own
// asynq server, with its own Redis client and MongoDB client.
type Worker struct {
	Name  string
	Timer *Timer
	rdb   *redis.Client
	mc    *mongo.Client
	srv   *asynq.Server
	hb    *heartbeat
	stop  context.CancelFunc
	done  chan struct{}
}

// Fleet starts o.Workers simulated runners against the harness's servers;
// they stop when the test ends.
func (h *Harness) Fleet(tb testing.TB, o FleetOptions) *Fleet {
	tb.Helper()
	if o.Slots <= 0 {
		o.Slots = 16
	}
	if o.Prefetch <= 0 {
		o.Prefetch = o.Slots
	}
	f := &Fleet{slots: o.Slots}
	cache := filepath.Join(h.dir, "artifacts") // one host's cache, shared as on a host
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16) // connecting 1,000 clients at once times out on 2 cores
	for i := range o.Workers {
		w := &Worker{Name: fmt.Sprintf("sim-%04d", i), Timer: &Timer{Duration: o.RunTime,
			OnStart: func() { f.firstStart.CompareAndSwap(0, time.Now().UnixNano()) }}}
		f.Workers = append(f.Workers, w)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := h.startWorker(w, f, o, cache); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	tb.Cleanup(func() { f.stop() })
	if firstErr != nil {
		tb.Fatalf("start simulated runners: %v", firstErr)
	}
	return f
}

func (h *Harness) startWorker(w *Worker, f *Fleet, o FleetOptions, cache string) error {
	ropt, err := redis.ParseURL(h.RedisURL)
	if err != nil {
		return err
	}
	w.rdb = redis.NewClient(ropt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mc, db, err := schema.Connect(ctx, h.MongoURI)
	if err != nil {
		return err
	}
	w.mc = mc
	w.hb = &heartbeat{rdb: w.rdb, name: w.Name, slots: o.Slots, tasks: map[int]string{}, poke: make(chan struct{}, 1)}
	rh := &runner.Handler{DB: db, Cache: runner.NewCache(cache, db), WorkDir: filepath.Join(h.dir, "work", w.Name),
		Worker: w.Name, Slots: o.Slots, Exec: w.Timer, Track: w.hb.track, Log: h.log.Named(w.Name),
		Changed: func(ctx context.Context, campaign string) {
			f.Finished.Add(1)
			_ = w.rdb.Publish(ctx, schema.ChangesChannel, campaign).Err()
		}}
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeRun, rh.ProcessTask)
	w.srv = asynq.NewServerFromRedisClient(redis.NewClient(ropt), asynq.Config{
		Concurrency:       o.Slots + o.Prefetch,
		Queues:            map[string]int{schema.QueueRun: 1},
		ShutdownTimeout:   2 * time.Second,
		TaskCheckInterval: emptyQueueCheck,
		Logger:            h.log.Named(w.Name).Sugar(),
		LogLevel:          asynq.WarnLevel,
		RetryDelayFunc: func(n int, _ error, _ *asynq.Task) time.Duration {
			return min(time.Duration(n+1)*2*time.Second, 30*time.Second)
		},
	})
	if err := w.srv.Start(mux); err != nil {
		return fmt.Errorf("start %s: %w", w.Name, err)
	}
	hctx, stop := context.WithCancel(context.Background())
	w.stop, w.done = stop, make(chan struct{})
	go func() { defer close(w.done); w.hb.loop(hctx) }()
	return nil
}

func (f *Fleet) stop() {
	var wg sync.WaitGroup
	for _, w := range f.Workers {
		if w.srv == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.srv.Shutdown()
			w.stop()
			<-w.done
			_ = w.rdb.Close()
			_ = w.mc.Disconnect(context.Background())
		}()
	}
	wg.Wait()
}

// Builder starts one real builder in this process (the campaign's model
// is prebuilt: no process runs).
func (h *Harness) Builder(tb testing.TB) {
	tb.Helper()
	ropt, err := redis.ParseURL(h.RedisURL)
	if err != nil {
		tb.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	mc, db, err := schema.Connect(context.Background(), h.MongoURI)
	if err != nil {
		tb.Fatal(err)
	}
	bh := &builder.Handler{DB: db, WorkDir: filepath.Join(h.dir, "build"), Jobs: 1, Worker: "builder", Log: h.log.Named("builder"),
		Changed: func(ctx context.Context, campaign string) {
			_ = rdb.Publish(ctx, schema.ChangesChannel, campaign).Err()
		}}
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeBuild, bh.ProcessTask)
	srv := asynq.NewServerFromRedisClient(redis.NewClient(ropt), asynq.Config{Concurrency: 1,
		Queues: map[string]int{schema.QueueBuild: 1}, TaskCheckInterval: emptyQueueCheck,
		Logger: h.log.Named("builder").Sugar(), LogLevel: asynq.WarnLevel})
	if err := srv.Start(mux); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		srv.Shutdown()
		_ = rdb.Close()
		_ = mc.Disconnect(context.Background())
	})
}

// heartbeat is `simswarm worker`'s heartbeat (cmd/simswarm/worker.go):
// what the slots run, under schema.WorkerKey with a TTL, every
// heartbeatEvery and soon after an idle worker took a task.
type heartbeat struct {
	rdb   *redis.Client
	name  string
	slots int
	mu    sync.Mutex
	next  int
	tasks map[int]string
	since time.Time
	poke  chan struct{}
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
	t := time.NewTicker(heartbeatEvery)
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
			case <-time.After(time.Until(last.Add(time.Second))):
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
	body, _ := json.Marshal(jobs.Heartbeat{Name: h.name, Role: "run", Slots: h.slots,
		Task: strings.Join(tasks, ", "), Tasks: tasks, Since: since})
	_ = h.rdb.Set(ctx, schema.WorkerKey(h.name), body, heartbeatTTL).Err()
}
