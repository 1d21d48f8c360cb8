package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/controller/workqueue"
)

// Options configures a Controller. Zero values take the defaults.
type Options struct {
	// Name is the zap key under which passes log their key ("campaign",
	// "stack"). Default "key".
	Name string
	// Reconcile is the pass. Required.
	Reconcile Func
	// Workers is how many keys are reconciled in parallel (never one key
	// twice at once). Default 1.
	Workers int
	// Resync is the mean period of the full resync; each wait is jittered
	// by ±20% (Jittered) so that controllers do not align. Default 30s.
	Resync time.Duration
	// Keys lists the keys a resync adds (all campaigns, the one stack). It
	// is called at Start and at every resync; an error is logged and the
	// keys it returned alongside are added still. Nil: no resync.
	Keys func(ctx context.Context) ([]string, error)
	// BaseDelay and MaxDelay bound the per-key exponential backoff of
	// transient errors (workqueue.Options).
	BaseDelay, MaxDelay time.Duration
	// Observe, if set, is told how long each pass took and how it ended
	// (a panic ends it with an error); passes cut short by the end of
	// Start's context are not observed.
	Observe func(took time.Duration, err error)
	// Clock drives the queue's delays and the resync; default the wall
	// clock.
	Clock workqueue.Clock
	// Jitter returns a number in [0,1) for the resync jitter; default a
	// source private to the controller.
	Jitter func() float64
	Logger *zap.Logger
}

// Controller runs Options.Reconcile over a workqueue. Create it with New;
// Add and AddAfter may be called before, during and after Start.
type Controller struct {
	opts  Options
	queue *workqueue.Queue
	log   *zap.Logger
}

// New returns a Controller; it panics without Options.Reconcile, a
// programming error.
func New(opts Options) *Controller {
	if opts.Reconcile == nil {
		panic("reconcile.New: Options.Reconcile is required")
	}
	if opts.Name == "" {
		opts.Name = "key"
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = workqueue.RealClock{}
	}
	if opts.Jitter == nil {
		opts.Jitter = NewJitter()
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Controller{
		opts:  opts,
		queue: workqueue.New(workqueue.Options{BaseDelay: opts.BaseDelay, MaxDelay: opts.MaxDelay, Clock: opts.Clock}),
		log:   log,
	}
}

// NewJitter returns a jitter source of its own (no global state): numbers
// in [0,1), safe for concurrent use.
func NewJitter() func() float64 {
	src := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	var mu sync.Mutex
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return src.Float64()
	}
}

// Jittered is period scaled by a factor in [0.8, 1.2) chosen by j in
// [0,1): the wait before the next resync.
func Jittered(period time.Duration, j float64) time.Duration {
	return time.Duration(float64(period) * (0.8 + 0.4*j))
}

// Add asks for key to be reconciled now (merged with a pending request).
func (c *Controller) Add(key string) { c.queue.Add(key) }

// AddAfter asks for key to be reconciled once d has passed; of several
// pending delays the earliest wins, and an Add supersedes them.
func (c *Controller) AddAfter(key string, d time.Duration) { c.queue.AddAfter(key, d) }

// RetryIn is how long key would wait if its pass failed now (transient
// error): its current backoff.
func (c *Controller) RetryIn(key string) time.Duration { return c.queue.Backoff(key) }

// Start resyncs at once, then runs the workers and the periodic resync
// until ctx ends; it then stops handing out keys, waits for the passes in
// flight and returns nil. A Controller is started once.
func (c *Controller) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := 0; i < c.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	defer func() {
		c.queue.ShutDown()
		wg.Wait()
	}()
	if c.opts.Keys == nil {
		<-ctx.Done()
		return nil
	}
	for {
		c.resync(ctx)
		fired := make(chan struct{})
		stop := c.opts.Clock.AfterFunc(Jittered(c.opts.Resync, c.opts.Jitter()), func() { close(fired) })
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-fired:
		}
	}
}

func (c *Controller) resync(ctx context.Context) {
	keys, err := c.opts.Keys(ctx)
	if err != nil && ctx.Err() == nil {
		c.log.Warn("resync: listing keys failed", zap.Error(err))
	}
	for _, k := range keys {
		c.queue.Add(k)
	}
}

// processNext runs one pass; false once the queue is shut down.
func (c *Controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	if ctx.Err() != nil {
		return true // draining after shutdown: no new pass
	}
	start := c.opts.Clock.Now()
	res, err := c.reconcile(ctx, key)
	took := c.opts.Clock.Now().Sub(start)
	if ctx.Err() != nil {
		return true // cut short by shutdown: neither counted nor retried
	}
	if c.opts.Observe != nil {
		c.opts.Observe(took, err)
	}
	log := c.log.With(zap.String(c.opts.Name, key))
	var pe *panicError
	switch {
	case errors.As(err, &pe):
		log.Error("reconcile panicked; retrying", zap.Duration("retryIn", c.queue.Backoff(key)),
			zap.Any("panic", pe.value), zap.ByteString("stack", pe.stack))
		c.queue.AddRateLimited(key)
	case IsTerminal(err):
		log.Warn("reconcile failed; not retrying", zap.Error(err))
	case err != nil:
		log.Warn("reconcile failed; retrying", zap.Duration("retryIn", c.queue.Backoff(key)),
			zap.Int("requeues", c.queue.NumRequeues(key)), zap.Error(err))
		c.queue.AddRateLimited(key)
	default:
		c.queue.Forget(key)
		if res.RequeueAfter > 0 {
			c.queue.AddAfter(key, res.RequeueAfter)
		}
		log.Debug("reconciled", zap.Duration("took", took))
	}
	return true
}

// reconcile runs one pass, turning a panic into an error: the process
// serves the API and the dashboard too, and one bad pass must not take
// them down.
func (c *Controller) reconcile(ctx context.Context, key string) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = Result{}, &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return c.opts.Reconcile(ctx, key)
}

// panicError is a pass that panicked: an error like any other for the
// queue and the metric, logged with its stack.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("reconcile panicked: %v", e.value) }
