package workqueue

import (
	"sync"
	"time"
)

// Options configures a Queue. Zero values take the defaults.
type Options struct {
	// BaseDelay is the first backoff of AddRateLimited. Default 100ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff. Default 5m.
	MaxDelay time.Duration
	// Clock defaults to RealClock.
	Clock Clock
}

// Queue is a deduplicating, per-key serialised work queue with delayed adds
// and exponential per-key backoff. Safe for concurrent use.
type Queue struct {
	opts Options

	mu         sync.Mutex
	cond       *sync.Cond
	queue      []string
	dirty      map[string]struct{}
	processing map[string]struct{}
	waiting    map[string]waitEntry
	failures   map[string]int
	shutdown   bool
}

type waitEntry struct {
	at   time.Time
	stop func() bool
}

// New returns an empty queue.
func New(opts Options) *Queue {
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = 100 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 5 * time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	q := &Queue{
		opts:       opts,
		dirty:      map[string]struct{}{},
		processing: map[string]struct{}{},
		waiting:    map[string]waitEntry{},
		failures:   map[string]int{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add marks key as needing processing now.
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue) addLocked(key string) {
	if q.shutdown {
		return
	}
	if w, ok := q.waiting[key]; ok {
		// An immediate add supersedes a delayed one.
		w.stop()
		delete(q.waiting, key)
	}
	if _, ok := q.dirty[key]; ok {
		return
	}
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		return // re-queued by Done
	}
	q.queue = append(q.queue, key)
	q.cond.Signal()
}

// AddAfter adds key once d has passed. Of several pending delays for one
// key, the earliest wins.
func (q *Queue) AddAfter(key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		if _, busy := q.processing[key]; !busy {
			return // already pending now: sooner than any delay
		}
	}
	at := q.opts.Clock.Now().Add(d)
	if w, ok := q.waiting[key]; ok {
		if !w.at.After(at) {
			return
		}
		w.stop()
	}
	var stop func() bool
	stop = q.opts.Clock.AfterFunc(d, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		// Only the timer that is still registered fires the add.
		if w, ok := q.waiting[key]; ok && w.at.Equal(at) {
			delete(q.waiting, key)
			q.addLocked(key)
		}
	})
	q.waiting[key] = waitEntry{at: at, stop: stop}
}

// AddRateLimited adds key after its current backoff and counts a failure.
func (q *Queue) AddRateLimited(key string) {
	q.mu.Lock()
	d := q.backoffLocked(key)
	q.failures[key]++
	q.mu.Unlock()
	q.AddAfter(key, d)
}

// Backoff is the delay the next AddRateLimited of key will wait:
// BaseDelay·2^n for n failures since the last Forget, capped at MaxDelay.
func (q *Queue) Backoff(key string) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.backoffLocked(key)
}

func (q *Queue) backoffLocked(key string) time.Duration {
	d := q.opts.BaseDelay
	for i := 0; i < q.failures[key]; i++ {
		d *= 2
		if d >= q.opts.MaxDelay {
			return q.opts.MaxDelay
		}
	}
	return d
}

// Forget resets key's backoff (call after a successful processing).
func (q *Queue) Forget(key string) {
	q.mu.Lock()
	delete(q.failures, key)
	q.mu.Unlock()
}

// NumRequeues reports the failures counted for key since its last Forget.
func (q *Queue) NumRequeues(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[key]
}

// Get blocks until a key is ready and hands it out; the caller must call
// Done(key) when finished. shutdown is true when the queue is shut down and
// drained.
func (q *Queue) Get() (key string, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if len(q.queue) == 0 {
		return "", true
	}
	key = q.queue[0]
	q.queue[0] = ""
	q.queue = q.queue[1:]
	q.processing[key] = struct{}{}
	delete(q.dirty, key)
	return key, false
}

// Done marks the processing of key finished; if key was added meanwhile it
// becomes ready again.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok {
		q.queue = append(q.queue, key)
		q.cond.Signal()
	}
}

// Len is the number of keys ready to be handed out.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// ShutDown stops accepting keys, cancels delayed adds and wakes all Get
// callers; they drain what is ready, then see shutdown.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	for k, w := range q.waiting {
		w.stop()
		delete(q.waiting, k)
	}
	q.cond.Broadcast()
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutdown
}
