package scale

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/workers/worker"
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

// Worker is one simulated runner: `simswarm worker --role run`
// (worker.Run) in this process, whose simulations are its Timer.
type Worker struct {
	Name  string
	Timer *Timer
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
	cache := h.cache // one host's cache, shared as on a host
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
			if err := h.startWorker(w, o, cache); err != nil {
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

// startWorker starts w and returns once it takes tasks.
func (h *Harness) startWorker(w *Worker, o FleetOptions, cache string) error {
	stop, done, err := h.startProcess(worker.Config{Role: worker.RoleRun, Name: w.Name, Cache: cache, Slots: o.Slots,
		Prefetch: o.Prefetch, ShutdownGrace: 2 * time.Second, Log: h.log.Named(w.Name), Exec: w.Timer})
	w.stop, w.done = stop, done
	return err
}

// startProcess runs worker.Run(cfg) against the harness's servers, as
// `simswarm worker` does, and returns once the worker takes tasks (or
// failed to start). stop ends it; done is closed once it stopped.
func (h *Harness) startProcess(cfg worker.Config) (stop context.CancelFunc, done chan struct{}, err error) {
	if cfg.Redis, err = redis.ParseURL(h.RedisURL); err != nil {
		return nil, nil, err
	}
	cfg.MongoURI = h.MongoURI
	ctx, stop := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan struct{})
	cfg.Ready = ready
	var runErr error
	go func() {
		defer close(done)
		runErr = worker.Run(ctx, cfg)
	}()
	select {
	case <-ready:
		return stop, done, nil
	case <-done:
		stop()
		return nil, nil, fmt.Errorf("start %s: %w", cfg.Name, runErr)
	}
}

func (f *Fleet) stop() {
	var wg sync.WaitGroup
	for _, w := range f.Workers {
		if w.stop == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stop()
			<-w.done
		}()
	}
	wg.Wait()
}

// Builder starts one real builder in this process, `simswarm worker
// --role build` (the campaign's model is prebuilt: no process runs).
func (h *Harness) Builder(tb testing.TB) {
	tb.Helper()
	stop, done, err := h.startProcess(worker.Config{Role: worker.RoleBuild, Name: "builder", Cache: h.cache, Slots: 1,
		Log: h.log.Named("builder")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stop()
		<-done
	})
}
