package local

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/procexec"
)

// Options say how Execute runs a Plan.
type Options struct {
	// ResultsDir receives the result files (created if missing).
	ResultsDir string
	// Jobs is the number of parallel slots; 0 = number of CPUs.
	Jobs int
	// Force redoes runs that are already complete.
	Force bool
	// Progress receives the progress display; TTY selects the redrawn bar
	// over plain lines.
	Progress io.Writer
	TTY      bool
	Logger   *zap.Logger
}

// Failure is a run that failed on its last attempt.
type Failure struct {
	Runs       []int
	Attempts   int
	Reason     string
	StderrTail string
}

// Summary is what Execute did.
type Summary struct {
	Total, Succeeded, Failed, Skipped int
	// Interrupted is set when ctx was cancelled before every run finished.
	Interrupted bool
	Wall, CPU   time.Duration
	Failures    []Failure
}

// Execute runs the plan's incomplete runs on opts.Jobs slots. It returns an
// error only when it cannot work at all (results directory unusable); run
// failures are in the Summary.
func Execute(ctx context.Context, p *Plan, opts Options) (*Summary, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.NumCPU()
	}
	// The simulation runs in its own directory: every path handed to it
	// must be absolute.
	resultsDir, err := filepath.Abs(opts.ResultsDir)
	if err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	opts.ResultsDir = resultsDir
	if err := os.MkdirAll(opts.ResultsDir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	unlock, err := LockDir(ctx, opts.ResultsDir, opts.Progress)
	if err != nil && ctx.Err() != nil {
		return &Summary{Total: len(p.Runs), Interrupted: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	defer unlock()
	recs, err := openRecords(opts.ResultsDir, p.Name)
	if err != nil {
		return nil, fmt.Errorf("completion records: %w", err)
	}
	defer func() {
		if err := recs.close(); err != nil {
			log.Error("closing completion records", zap.Error(err))
		}
	}()
	sum := &Summary{Total: len(p.Runs)}
	var pending []int
	skipped := map[int]Record{}
	for _, r := range p.Runs {
		id := p.identity(r)
		if !opts.Force {
			if rec, ok := recs.complete(id); ok {
				sum.Skipped++
				skipped[r] = rec
				continue
			}
		}
		recs.forget(id)
		pending = append(pending, r)
	}
	sched := newSchedule(pending, p.BatchSize, opts.Jobs)
	jobs := min(opts.Jobs, max(len(pending), 1))

	dir, err := filepath.Abs(p.Dir)
	if err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}
	col := newCollector(dir, opts.ResultsDir, p.Results, p.Config, skipped)
	col.watch()
	defer func() {
		if err := col.close(); err != nil {
			log.Error("closing the results directory's change log", zap.Error(err))
		}
	}()
	if err := col.claimExisting(); err != nil {
		return nil, err
	}
	prog := newProgress(opts.Progress, opts.TTY, sum.Total, sum.Skipped)
	defer prog.stop()
	t := &tally{sum: sum, prog: prog, skipped: maps.Clone(skipped)}
	start := time.Now()

	// A slot is held while a process runs, not while its last run is
	// collected: twice as many workers as slots, so that a slot's next
	// process starts while the one before is being settled. A worker takes
	// a slot before it takes a batch, so batches start in order (the
	// short last batches last), each sized when its slot is free.
	slots := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for range 2 * jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				batch, f := sched.next(time.Now())
				if batch == nil || ctx.Err() != nil {
					<-slots
					return
				}
				if changed := p.Inputs.Changed(); changed != "" {
					<-slots
					sched.ended(f)
					t.failed(Failure{Runs: append(batch, sched.drain()...), Reason: changed + " changed during the sweep " +
						"(edited, or the program rebuilt): these runs would simulate something other than their identities say; run again to resume"})
					return
				}
				runBatch(ctx, p, batch, slots, col, recs, t, sched, log)
				sched.ended(f)
			}
		}()
	}
	wg.Wait()
	sum.Wall = time.Since(start)
	sum.Interrupted = ctx.Err() != nil && sum.Succeeded+sum.Failed+sum.Skipped < sum.Total
	return sum, nil
}

// tally counts what became of each run, for the Summary and the progress
// display.
type tally struct {
	mu   sync.Mutex
	sum  *Summary
	prog *progress
	// skipped and done are the runs counted as skipped and as succeeded.
	skipped map[int]Record
	done    map[int]bool
}

func (t *tally) cpu(d time.Duration) {
	t.mu.Lock()
	t.sum.CPU += d
	t.mu.Unlock()
}

func (t *tally) succeeded(runs []int) {
	t.mu.Lock()
	t.sum.Succeeded += len(runs)
	if t.done == nil {
		t.done = map[int]bool{}
	}
	for _, r := range runs {
		t.done[r] = true
	}
	t.mu.Unlock()
	t.prog.finished(len(runs), nil, false)
}

// revoke turns a run counted as succeeded or skipped into a failure (a
// later run overwrote its file) and reports whether it was one.
func (t *tally) revoke(run int, reason string) bool {
	t.mu.Lock()
	_, skipped := t.skipped[run]
	switch {
	case t.done[run]:
		delete(t.done, run)
		t.sum.Succeeded--
	case skipped:
		delete(t.skipped, run)
		t.sum.Skipped--
	default:
		t.mu.Unlock()
		return false // failed already, or to be retried
	}
	t.sum.Failed++
	f := Failure{Runs: []int{run}, Attempts: 1, Reason: reason}
	t.sum.Failures = append(t.sum.Failures, f)
	t.mu.Unlock()
	t.prog.revoked(&f)
	return true
}

func (t *tally) failed(f Failure) {
	t.mu.Lock()
	t.sum.Failed += len(f.Runs)
	t.sum.Failures = append(t.sum.Failures, f)
	t.mu.Unlock()
	t.prog.finished(len(f.Runs), &f, false)
}

// runBatch executes one batch of runs in one process, as opp_runall does
// (its first process in the slot the caller holds, later ones each in a
// slot of their own), and keeps what each run achieved: runs that finished
// are recorded even when a later run of the batch failed; a failed run is
// tried again (alone or with the runs the failure kept from starting)
// until its retries are spent, and runs the failure kept from starting run
// again without losing an attempt.
func runBatch(ctx context.Context, p *Plan, batch []int, slots chan struct{}, col *collector, recs *records, t *tally, sched *schedule, log *zap.Logger) {
	attempts := map[int]int{}
	maxAttempts := 1 + max(p.Retries, 0)
	remaining := batch
	holding := true // the caller's slot, for the first process
	defer func() {
		if holding {
			<-slots
		}
	}()
	for len(remaining) > 0 {
		if ctx.Err() != nil {
			return
		}
		if ce := log.Check(zap.DebugLevel, "batch started"); ce != nil {
			ce.Write(zap.Ints("runs", remaining))
		}
		blog := oppcli.NewBatchLog(p.Config, remaining)
		start := time.Now()
		timeout := p.Timeout * time.Duration(len(remaining))
		// settle collects and records finished runs: each as soon as the
		// next one starts (so a long batch shows progress and an
		// interruption keeps what finished), the rest when the process
		// exits.
		settled := map[int]bool{}
		failure := map[int]string{}
		final := map[int]bool{} // failures that retrying cannot mend
		last := start
		settle := func(runs []int) {
			var todo []int
			for _, r := range runs {
				if !settled[r] {
					settled[r] = true
					todo = append(todo, r)
				}
			}
			if len(todo) == 0 {
				return
			}
			// One settle at a time: a run another batch revokes must not
			// be recorded meanwhile.
			col.settling.Lock()
			defer col.settling.Unlock()
			got, err := col.collect(todo, start)
			now := time.Now()
			took := now.Sub(last) / time.Duration(len(todo))
			last = now
			for run, reason := range got.revoked {
				// A run settled or skipped before: its record goes (the
				// last line of a run wins; one without files is never
				// complete), and it counts as failed.
				if !t.revoke(run, reason) {
					continue
				}
				log.Info("run revoked", zap.Int("run", run), zap.String("reason", reason))
				if err := recs.write(Record{Run: run, Config: p.Config, Identity: p.identity(run), Key: p.Key, Finished: now.UTC()}); err != nil {
					log.Error("revoking a run's record", zap.Int("run", run), zap.Error(err))
				}
			}
			var ok []int
			for _, r := range todo {
				switch {
				case err != nil:
					failure[r] = err.Error()
					continue
				case len(got.refused[r]) > 0:
					// Another attempt would write the same shared file.
					failure[r] = strings.Join(got.refused[r], "; ")
					final[r] = true
					continue
				case len(got.files[r]) == 0:
					failure[r] = fmt.Sprintf("the run wrote no result files that say they are run %d of %s (looked in %s)%s", r, p.Config, col.where(), nameless(got.nameless))
					continue
				}
				rec := Record{
					Run: r, Config: p.Config, Identity: p.identity(r), Key: p.Key, Attempts: attempts[r] + 1, Finished: now.UTC(), Files: got.files[r],
					DurationMS: took.Milliseconds(),
				}
				if err := recs.write(rec); err != nil {
					failure[r] = err.Error()
					continue
				}
				ok = append(ok, r)
			}
			if len(ok) > 0 {
				sched.finished(took, len(ok))
				t.succeeded(ok)
			}
		}
		blog.OnFinished(func(run int) { settle([]int{run}) })
		if !holding {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		holding = false
		start = time.Now()
		last = start
		res := procexec.Run(ctx, procexec.Cmd{
			Argv:     append(slices.Clone(p.Args), "-r", oppcli.JoinRuns(remaining)),
			Dir:      p.Dir,
			Env:      p.Env,
			Timeout:  timeout,
			Stdout:   blog,
			Combined: true,
		})
		<-slots
		t.cpu(res.CPU())
		finished, failed := blog.Outcome(res, remaining)
		settle(finished)
		if res.Canceled {
			return // the interrupted run is not a failure, and is not recorded
		}
		for _, r := range failed {
			failure[r] = runFailure(p, res, timeout, r, blog)
		}
		var next []int
		for _, r := range remaining {
			reason, bad := failure[r]
			switch {
			case !bad && slices.Contains(finished, r):
				continue
			case !bad:
				next = append(next, r) // never started: the batch stopped before it
				continue
			}
			attempts[r]++
			log.Info("run attempt failed", zap.Int("run", r), zap.Int("attempt", attempts[r]), zap.String("reason", reason))
			if attempts[r] < maxAttempts && !final[r] {
				next = append(next, r)
				continue
			}
			t.failed(Failure{Runs: []int{r}, Attempts: attempts[r], Reason: reason, StderrTail: runOutput(p, blog, r, len(blog.Started()) == 0)})
		}
		remaining = next
	}
}

// nameless says which files written meanwhile say no run.
func nameless(names []string) string {
	if len(names) == 0 {
		return ""
	}
	if len(names) > 5 {
		names = append(names[:5:5], "...")
	}
	return "; not an OMNeT++ text result file, so saying no run (SQLite result files, files of the model's own): " + strings.Join(names, ", ")
}

// runFailure says why run failed: how the process ended, and the
// program's own error line.
func runFailure(p *Plan, res procexec.Result, timeout time.Duration, run int, blog *oppcli.BatchLog) string {
	reason := res.Describe()
	started := blog.Started()
	last := len(started) == 0 || started[len(started)-1] == run
	if res.TimedOut && last {
		return fmt.Sprintf("timed out after %s", timeout)
	}
	if errs := programErrors(p, blog, run, len(started) == 0); len(errs) > 0 {
		reason += ": " + errs[0]
	}
	return reason
}

// programErrors are the "<!> Error" lines of run (before any run started,
// when early), read from the run's redirected output when Cmdenv only
// pointed there.
func programErrors(p *Plan, blog *oppcli.BatchLog, run int, early bool) []string {
	lines := blog.Errors(run)
	if early {
		lines = append(blog.Errors(-1), lines...)
	}
	var out []string
	for _, l := range lines {
		file, ok := oppcli.RedirectedError(l)
		if !ok {
			out = append(out, l)
			continue
		}
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.Dir, path)
		}
		found := false
		if data, err := readTail(path, 64<<10); err == nil {
			for _, fl := range strings.Split(data, "\n") {
				if strings.HasPrefix(fl, "<!> Error") {
					out = append(out, fl)
					found = true
				}
			}
		}
		if !found {
			out = append(out, l)
		}
	}
	return out
}

// runOutput is what the summary shows under a failed run: the program's
// error lines, then the last lines it printed while the run was current.
func runOutput(p *Plan, blog *oppcli.BatchLog, run int, early bool) string {
	var b strings.Builder
	errs := programErrors(p, blog, run, early)
	for _, e := range errs {
		b.WriteString(e + "\n")
	}
	out := blog.Output(run)
	if early {
		out = strings.TrimSpace(blog.Output(-1) + "\n" + out)
	}
	for _, l := range strings.Split(out, "\n") {
		if l != "" && !slices.Contains(errs, l) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func readTail(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		if _, err := f.Seek(st.Size()-n, io.SeekStart); err != nil {
			return "", err
		}
	}
	data, err := io.ReadAll(f)
	return string(data), err
}
