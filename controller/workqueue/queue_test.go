package workqueue

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// fakeClock fires AfterFunc callbacks synchronously when advanced.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
	fired   bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.fired || t.stopped {
			return false
		}
		t.stopped = true
		return true
	}
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.fired && !t.stopped && !t.at.After(c.now) {
			t.fired = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

func mustGet(t *testing.T, q *Queue, want string) {
	t.Helper()
	if q.Len() == 0 {
		t.Fatalf("queue empty, want %q", want)
	}
	got, sd := q.Get()
	if sd || got != want {
		t.Fatalf("Get = %q,%v want %q", got, sd, want)
	}
}

func TestDedupPendingKeys(t *testing.T) {
	q := New(Options{Clock: newFakeClock()})
	q.Add("a")
	q.Add("b")
	q.Add("a")
	if q.Len() != 2 {
		t.Fatalf("Len = %d, want 2", q.Len())
	}
	mustGet(t, q, "a")
	mustGet(t, q, "b")
}

func TestNoConcurrentProcessingOfAKey(t *testing.T) {
	q := New(Options{Clock: newFakeClock()})
	q.Add("a")
	mustGet(t, q, "a")
	q.Add("a") // while processing: remembered, not handed out
	if q.Len() != 0 {
		t.Fatalf("key handed out twice concurrently: Len = %d", q.Len())
	}
	q.Done("a")
	if q.Len() != 1 {
		t.Fatalf("re-added key not ready after Done: Len = %d", q.Len())
	}
	mustGet(t, q, "a")
	q.Done("a")
	if q.Len() != 0 {
		t.Fatalf("Len = %d after Done without re-add", q.Len())
	}
}

func TestConcurrentWorkersNeverOverlapOnAKey(t *testing.T) {
	q := New(Options{})
	var mu sync.Mutex
	active := map[string]bool{}
	overlap := false
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, sd := q.Get()
				if sd {
					return
				}
				mu.Lock()
				if active[k] {
					overlap = true
				}
				active[k] = true
				mu.Unlock()
				time.Sleep(50 * time.Microsecond)
				mu.Lock()
				active[k] = false
				mu.Unlock()
				q.Done(k)
			}
		}()
	}
	for i := 0; i < 2000; i++ {
		q.Add([]string{"a", "b", "c"}[i%3])
	}
	deadline := time.Now().Add(5 * time.Second)
	for q.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	q.ShutDown()
	wg.Wait()
	if overlap {
		t.Fatal("a key was processed by two workers at once")
	}
}

func TestExponentialBackoffWithCapAndForget(t *testing.T) {
	clk := newFakeClock()
	q := New(Options{BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Clock: clk})
	wants := []time.Duration{10, 20, 40, 50, 50}
	for i, w := range wants {
		q.AddRateLimited("a")
		clk.Advance(w*time.Millisecond - time.Nanosecond)
		if q.Len() != 0 {
			t.Fatalf("failure %d: ready before %v", i, w*time.Millisecond)
		}
		clk.Advance(time.Nanosecond)
		mustGet(t, q, "a")
		q.Done("a")
	}
	if q.NumRequeues("a") != 5 {
		t.Fatalf("NumRequeues = %d", q.NumRequeues("a"))
	}
	q.Forget("a")
	q.AddRateLimited("a")
	clk.Advance(10 * time.Millisecond)
	mustGet(t, q, "a")
}

func TestAddAfterKeepsEarliest(t *testing.T) {
	clk := newFakeClock()
	q := New(Options{Clock: clk})
	q.AddAfter("a", time.Second)
	q.AddAfter("a", 5*time.Second)
	q.AddAfter("a", 300*time.Millisecond)
	clk.Advance(300 * time.Millisecond)
	mustGet(t, q, "a")
	q.Done("a")
	clk.Advance(10 * time.Second)
	if q.Len() != 0 {
		t.Fatalf("superseded delays fired: Len = %d", q.Len())
	}
}

func TestAddSupersedesDelay(t *testing.T) {
	clk := newFakeClock()
	q := New(Options{Clock: clk})
	q.AddAfter("a", time.Second)
	q.Add("a")
	mustGet(t, q, "a")
	q.Done("a")
	clk.Advance(2 * time.Second)
	if q.Len() != 0 {
		t.Fatal("delayed add fired after an immediate add")
	}
}

func TestShutDownWakesGetAndRefusesAdds(t *testing.T) {
	q := New(Options{Clock: newFakeClock()})
	done := make(chan bool)
	go func() {
		_, sd := q.Get()
		done <- sd
	}()
	time.Sleep(10 * time.Millisecond) // let Get block; the assertion below doesn't depend on it
	q.ShutDown()
	select {
	case sd := <-done:
		if !sd {
			t.Fatal("Get returned a key after shutdown")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get not woken by ShutDown")
	}
	q.Add("x")
	if q.Len() != 0 {
		t.Fatal("Add accepted after ShutDown")
	}
	if _, sd := q.Get(); !sd {
		t.Fatal("Get after ShutDown did not report shutdown")
	}
}
