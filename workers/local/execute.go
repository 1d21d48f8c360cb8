package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
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

// Failure is a run (or batch of runs) that failed on its last attempt.
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
	batchSize := max(p.BatchSize, 1)
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
	recs, err := openRecords(opts.ResultsDir, p.Name)
	if err != nil {
		return nil, fmt.Errorf("completion records: %w", err)
	}
	defer func() {
		if err := recs.close(); err != nil {
			log.Error("closing completion records", zap.Error(err))
		}
	}()
	// Private run directories live beside the results so that finished
	// files are renamed, not copied, into place.
	tmpRoot := filepath.Join(opts.ResultsDir, ".simswarm", "tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}

	sum := &Summary{Total: len(p.Runs)}
	var pending []int
	for _, r := range p.Runs {
		if !opts.Force && recs.complete(r) {
			sum.Skipped++
			continue
		}
		recs.forget(r)
		pending = append(pending, r)
	}
	var batches [][]int
	for i := 0; i < len(pending); i += batchSize {
		batches = append(batches, pending[i:min(i+batchSize, len(pending))])
	}
	jobs := min(opts.Jobs, max(len(batches), 1))

	prog := newProgress(opts.Progress, opts.TTY, sum.Total, sum.Skipped)
	defer prog.stop()
	start := time.Now()

	work := make(chan []int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One private directory per slot, reused run after run: creating
			// and deleting directories per run costs more than a trivial run.
			slot, err := os.MkdirTemp(tmpRoot, "slot-")
			if err == nil {
				defer os.RemoveAll(slot)
			}
			for batch := range work {
				var out batchOutcome
				if err != nil {
					out.failure = &Failure{Runs: batch, Attempts: 1, Reason: fmt.Sprintf("private run directory: %v", err)}
				} else {
					out = runBatch(ctx, p, batch, opts.ResultsDir, slot, recs, log)
				}
				mu.Lock()
				sum.CPU += out.cpu
				switch {
				case out.canceled:
				case out.failure != nil:
					sum.Failed += len(batch)
					sum.Failures = append(sum.Failures, *out.failure)
				default:
					sum.Succeeded += len(batch)
				}
				mu.Unlock()
				prog.finished(len(batch), out.failure, out.canceled)
			}
		}()
	}
feed:
	for _, b := range batches {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	sum.Wall = time.Since(start)
	sum.Interrupted = ctx.Err() != nil && sum.Succeeded+sum.Failed+sum.Skipped < sum.Total
	return sum, nil
}

type batchOutcome struct {
	failure  *Failure
	canceled bool
	cpu      time.Duration
}

// runBatch executes one batch with retries and records its runs on success.
// runDir is the slot's private directory: the program writes into
// runDir/results, which is emptied before each attempt.
func runBatch(ctx context.Context, p *Plan, batch []int, resultsDir, runDir string, recs *records, log *zap.Logger) batchOutcome {
	sim := api.SimulationSpec{Program: p.Program, IniFile: p.IniFile, Config: p.Config}
	var out batchOutcome
	attempts := 1 + max(p.Retries, 0)
	for attempt := 1; attempt <= attempts; attempt++ {
		if ctx.Err() != nil {
			out.canceled = true
			return out
		}
		if err := emptyDir(runDir); err != nil {
			out.failure = &Failure{Runs: batch, Attempts: attempt, Reason: err.Error()}
			return out
		}
		resultDir := filepath.Join(runDir, "results")
		if ce := log.Check(zap.DebugLevel, "run started"); ce != nil {
			ce.Write(zap.Ints("runs", batch), zap.Int("attempt", attempt))
		}
		res := procexec.Run(ctx, procexec.Cmd{
			Argv:    oppcli.RunArgv(sim, batch, resultDir),
			Dir:     p.Dir,
			Env:     p.Env,
			Timeout: p.Timeout * time.Duration(len(batch)),
		})
		out.cpu += res.CPU()
		if res.Canceled {
			out.canceled = true
			return out
		}
		reason := ""
		if res.Success() {
			files, err := collect(runDir, resultsDir, p.Results, batch)
			if err == nil {
				err = writeRecords(recs, p.Config, batch, files, attempt, res)
			}
			if err == nil {
				out.failure = nil
				if ce := log.Check(zap.DebugLevel, "run complete"); ce != nil {
					ce.Write(zap.Ints("runs", batch), zap.Duration("wall", res.Duration), zap.Duration("cpu", res.CPU()))
				}
				return out
			}
			reason = err.Error()
		} else {
			reason = res.Describe()
			if res.TimedOut {
				reason = fmt.Sprintf("timed out after %s", p.Timeout*time.Duration(len(batch)))
			}
		}
		log.Info("run attempt failed", zap.Ints("runs", batch), zap.Int("attempt", attempt), zap.String("reason", reason))
		out.failure = &Failure{Runs: batch, Attempts: attempt, Reason: reason, StderrTail: res.StderrTail}
	}
	return out
}

func writeRecords(recs *records, config string, batch []int, files map[int][]FileRecord, attempt int, res procexec.Result) error {
	now := time.Now().UTC()
	for _, r := range batch {
		rec := Record{
			Run: r, Config: config, Attempts: attempt, Finished: now, Files: files[r],
			DurationMS: res.Duration.Milliseconds() / int64(len(batch)),
			CPUMS:      res.CPU().Milliseconds() / int64(len(batch)),
		}
		if err := recs.write(rec); err != nil {
			return err
		}
	}
	return nil
}

// emptyDir removes everything inside dir (what a failed attempt left),
// keeping dir/results itself so that the next run need not create it.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.Name() == "results" && e.IsDir() {
			if err := emptyDir(p); err != nil {
				return err
			}
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
