package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simswarm/simswarm/workers/procexec"
)

// Timer is a runner.Executor whose simulation takes Duration and writes
// one small result file per run of its -r filter, named as opp_run names
// them (CONFIG-#N.sca) with the header that says whose it is, into the
// --result-dir of its argv, else results/ in its working directory (as
// opp_run).
type Timer struct {
	Duration time.Duration
	// OnStart, if set, is called as each simulation starts.
	OnStart func()

	calls     atomic.Int64
	simulated atomic.Int64
	mu        sync.Mutex
	running   int
	peak      int
	runs      map[string]int // simulations of each run (argv -r item)
}

// Run implements runner.Executor.
func (t *Timer) Run(ctx context.Context, c procexec.Cmd) procexec.Result {
	t.calls.Add(1)
	if t.OnStart != nil {
		t.OnStart()
	}
	t.mu.Lock()
	t.running++
	t.peak = max(t.peak, t.running)
	t.mu.Unlock()
	defer func() { t.mu.Lock(); t.running--; t.mu.Unlock() }()
	start := time.Now()
	config, runs, dir := "General", "", ""
	for i, a := range c.Argv {
		switch {
		case a == "-c" && i+1 < len(c.Argv):
			config = c.Argv[i+1]
		case a == "-r" && i+1 < len(c.Argv):
			runs = c.Argv[i+1]
		case strings.HasPrefix(a, "--result-dir="):
			dir = strings.TrimPrefix(a, "--result-dir=")
		}
	}
	if runs == "" {
		return procexec.Result{ExitCode: 1, StderrTail: "timer: no -r in argv", Duration: time.Since(start)}
	}
	if dir == "" {
		dir = filepath.Join(c.Dir, "results")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return procexec.Result{ExitCode: -1, Err: err}
	}
	// One run after the other, as opp_run -r a,b,c: each announced on
	// stdout as Cmdenv does, each writing a file whose header names it.
	for _, r := range strings.Split(runs, ",") {
		if _, err := strconv.Atoi(r); err != nil {
			return procexec.Result{ExitCode: 1, StderrTail: "timer: run filter " + runs, Duration: time.Since(start)}
		}
		if c.Stdout != nil {
			fmt.Fprintf(c.Stdout, "%s run %s: $repetition=0\n", config, r)
		}
		if t.Duration > 0 {
			tm := time.NewTimer(t.Duration)
			select {
			case <-tm.C:
			case <-ctx.Done():
				tm.Stop()
				return procexec.Result{ExitCode: -1, Canceled: true, Duration: time.Since(start)}
			}
		}
		t.mu.Lock()
		if t.runs == nil {
			t.runs = map[string]int{}
		}
		t.runs[r]++
		t.mu.Unlock()
		t.simulated.Add(1)
		body := fmt.Sprintf("version 3\nrun %s-%s-timer\nattr configname %s\nattr runnumber %s\n\nscalar net x %s\n", config, r, config, r, r)
		if err := os.WriteFile(filepath.Join(dir, config+"-#"+r+".sca"), []byte(body), 0o644); err != nil {
			return procexec.Result{ExitCode: -1, Err: err}
		}
	}
	return procexec.Result{ExitCode: 0, Duration: time.Since(start)}
}

// Calls is how many simulations the timer started.
func (t *Timer) Calls() int64 { return t.calls.Load() }

// Simulated returns how many times each run (by number) was simulated.
func (t *Timer) Simulated() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.runs))
	for r, n := range t.runs {
		out[r] = n
	}
	return out
}

// Peak is the most simulations the timer ran at once.
func (t *Timer) Peak() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peak
}
