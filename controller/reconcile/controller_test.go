package reconcile

import (
	"context"
	"errors"
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
	at            time.Time
	f             func()
	stopped, done bool
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
		if t.done || t.stopped {
			return false
		}
		t.stopped = true
		return true
	}
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done && !t.stopped {
			n++
		}
	}
	return n
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.done && !t.stopped && !t.at.After(c.now) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// waitTimers waits until n timers are pending: a requeue or the next
// resync was scheduled, so advancing the clock will fire it.
func waitTimers(t *testing.T, c *fakeClock, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.pending() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d timers pending, want %d", c.pending(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// pass is one call of the reconcile func, at the fake clock's time.
type pass struct {
	key string
	at  time.Time
}

// start runs a controller with opts (Reconcile wrapped to report every
// pass on the returned channel) until the test ends.
func start(t *testing.T, clk *fakeClock, opts Options) (*Controller, <-chan pass, context.CancelFunc, <-chan error) {
	t.Helper()
	passes := make(chan pass, 100)
	inner := opts.Reconcile
	opts.Reconcile = func(ctx context.Context, key string) (Result, error) {
		passes <- pass{key, clk.Now()}
		return inner(ctx, key)
	}
	opts.Clock = clk
	c := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done, stopped := make(chan error, 1), make(chan struct{})
	go func() { done <- c.Start(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return c, passes, cancel, done
}

func mustPass(t *testing.T, passes <-chan pass, key string) pass {
	t.Helper()
	select {
	case p := <-passes:
		if p.key != key {
			t.Fatalf("pass over %q, want %q", p.key, key)
		}
		return p
	case <-time.After(5 * time.Second):
		t.Fatalf("no pass over %q", key)
	}
	return pass{}
}

func noPass(t *testing.T, passes <-chan pass, why string) {
	t.Helper()
	select {
	case p := <-passes:
		t.Fatalf("%s: unexpected pass over %q", why, p.key)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestResultRequeueAfter(t *testing.T) {
	clk := newFakeClock()
	c, passes, _, _ := start(t, clk, Options{Reconcile: func(context.Context, string) (Result, error) {
		return Result{RequeueAfter: 5 * time.Second}, nil
	}})
	c.Add("a")
	mustPass(t, passes, "a")
	waitTimers(t, clk, 1)
	clk.Advance(5*time.Second - time.Nanosecond)
	noPass(t, passes, "before RequeueAfter")
	clk.Advance(time.Nanosecond)
	mustPass(t, passes, "a")
	if d := c.RetryIn("a"); d != 100*time.Millisecond {
		t.Errorf("a requeue counted as a failure: backoff %v", d)
	}
}

func TestTransientErrorsBackOffExponentiallyAndSuccessForgets(t *testing.T) {
	clk := newFakeClock()
	var mu sync.Mutex
	fail := 3
	var observed []error
	c, passes, _, _ := start(t, clk, Options{BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second,
		Observe: func(_ time.Duration, err error) { mu.Lock(); observed = append(observed, err); mu.Unlock() },
		Reconcile: func(context.Context, string) (Result, error) {
			mu.Lock()
			defer mu.Unlock()
			if fail > 0 {
				fail--
				return Result{}, errors.New("redis down")
			}
			return Result{}, nil
		}})
	c.Add("a")
	mustPass(t, passes, "a")
	for _, wait := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond} {
		waitTimers(t, clk, 1)
		clk.Advance(wait - time.Nanosecond)
		noPass(t, passes, "before the backoff of "+wait.String())
		clk.Advance(time.Nanosecond)
		mustPass(t, passes, "a")
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.RetryIn("a") != 10*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("backoff after a success: %v, want the base delay (Forget)", c.RetryIn("a"))
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 4 || observed[0] == nil || observed[2] == nil || observed[3] != nil {
		t.Errorf("observed %v, want three errors and a success", observed)
	}
}

func TestTerminalErrorIsNotRetried(t *testing.T) {
	clk := newFakeClock()
	var errs []error
	var mu sync.Mutex
	c, passes, _, _ := start(t, clk, Options{
		Observe: func(_ time.Duration, err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
		Reconcile: func(context.Context, string) (Result, error) {
			return Result{}, Terminal(errors.New("fenced"))
		}})
	c.Add("a")
	mustPass(t, passes, "a")
	time.Sleep(20 * time.Millisecond) // let the worker handle the error
	if n := clk.pending(); n != 0 {
		t.Fatalf("%d requeues scheduled after a terminal error", n)
	}
	clk.Advance(time.Hour)
	noPass(t, passes, "after a terminal error")
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 1 || !IsTerminal(errs[0]) {
		t.Errorf("observed %v, want the terminal error once", errs)
	}
	// An event still brings the key back.
	c.Add("a")
	mustPass(t, passes, "a")
}

func TestTerminalWrapsAndIsTerminalSeesThroughWrapping(t *testing.T) {
	base := errors.New("fenced")
	err := Terminal(base)
	if !errors.Is(err, base) || !IsTerminal(err) || !IsTerminal(errors.Join(errors.New("ctx"), err)) {
		t.Errorf("Terminal(%v) = %v loses the cause or its mark", base, err)
	}
	if IsTerminal(base) || Terminal(nil) != nil {
		t.Error("an unmarked error is terminal, or Terminal(nil) is not nil")
	}
}

func TestPanickingPassIsRecoveredCountedAndRequeued(t *testing.T) {
	clk := newFakeClock()
	var mu sync.Mutex
	var errs []error
	calls := 0
	c, passes, _, done := start(t, clk, Options{BaseDelay: time.Second,
		Observe: func(_ time.Duration, err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
		Reconcile: func(context.Context, string) (Result, error) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 1 {
				var m map[string]int
				m["boom"]++ // assignment to entry in nil map
			}
			return Result{}, nil
		}})
	c.Add("a")
	mustPass(t, passes, "a")
	waitTimers(t, clk, 1)
	select {
	case err := <-done:
		t.Fatalf("Start returned after a panic: %v", err)
	default:
	}
	clk.Advance(time.Second)
	mustPass(t, passes, "a")
	c.Add("b") // the worker still serves other keys
	mustPass(t, passes, "b")
	mu.Lock()
	defer mu.Unlock()
	if len(errs) < 1 || errs[0] == nil || IsTerminal(errs[0]) {
		t.Fatalf("observed %v, want the panic as a transient error first", errs)
	}
}

func TestResyncAddsAllKeysWithinJitterBounds(t *testing.T) {
	clk := newFakeClock()
	jitters := []float64{0, 0.5, 0.999999}
	var mu sync.Mutex
	i := 0
	const period = 10 * time.Second
	_, passes, _, _ := start(t, clk, Options{Resync: period, Workers: 2,
		Jitter: func() float64 {
			mu.Lock()
			defer mu.Unlock()
			j := jitters[i%len(jitters)]
			i++
			return j
		},
		Keys: func(context.Context) ([]string, error) { return []string{"a"}, nil },
		Reconcile: func(context.Context, string) (Result, error) {
			return Result{}, nil
		}})
	last := mustPass(t, passes, "a").at // Start resyncs at once
	for _, want := range []time.Duration{8 * time.Second, 10 * time.Second, 12*time.Second - 4*time.Microsecond} {
		waitTimers(t, clk, 1)
		clk.Advance(want - time.Millisecond)
		noPass(t, passes, "resync before "+want.String())
		clk.Advance(time.Millisecond)
		p := mustPass(t, passes, "a")
		if got := p.at.Sub(last); got < 8*time.Second || got >= 12*time.Second {
			t.Errorf("resync after %v, outside [8s, 12s)", got)
		}
		last = p.at
	}
	for _, j := range []float64{0, 0.25, 0.5, 0.999999} {
		if got := Jittered(period, j); got < 8*time.Second || got >= 12*time.Second {
			t.Errorf("Jittered(%v, %v) = %v outside [8s, 12s)", period, j, got)
		}
	}
}

func TestResyncListingErrorKeepsTheKeysItGot(t *testing.T) {
	clk := newFakeClock()
	_, passes, _, _ := start(t, clk, Options{
		Keys: func(context.Context) ([]string, error) { return []string{"a"}, errors.New("orphans: mongo down") },
		Reconcile: func(context.Context, string) (Result, error) {
			return Result{}, nil
		}})
	mustPass(t, passes, "a")
}

func TestShutdownWaitsForPassesInFlight(t *testing.T) {
	clk := newFakeClock()
	release := make(chan struct{})
	c, passes, cancel, done := start(t, clk, Options{Reconcile: func(_ context.Context, key string) (Result, error) {
		if key == "slow" {
			<-release
		}
		return Result{}, nil
	}})
	c.Add("slow")
	mustPass(t, passes, "slow")
	cancel()
	select {
	case <-done:
		t.Fatal("Start returned while a pass was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	c.Add("late")
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Start = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after the pass in flight ended")
	}
	noPass(t, passes, "after shutdown")
}
