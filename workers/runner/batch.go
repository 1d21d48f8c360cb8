package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/procexec"
	"github.com/simswarm/simswarm/workers/workdir"
)

// batchRun is one run of a batch task and what became of it.
type batchRun struct {
	schema.RunItem
	id   string
	a    *attempt
	done bool // an outcome is recorded (or the run needs none)
}

// processBatch carries out one delivery of a task of several runs
// (schema.RunTask.Runs). The runs are executed as opp_runall -b does, in one
// process (opp_run -s -r a,b,c), and each run's outcome is its own: its
// files are the ones whose header names it, its completion and record are
// its own, a failure costs an attempt of the failed run only, and the runs
// a failure kept from starting run again in a new process. The
// completions of the runs one process finished are written together (one
// group commit). Where the files cannot be told apart by their headers
// (files of the simulation's own making, or a program that does not
// announce its runs and fails), the runs are executed one process each,
// inside the same task.
func (h *Handler) processBatch(ctx context.Context, t *asynq.Task, rt schema.RunTask) (err error) {
	log := h.logger().With(zap.String("campaign", rt.Campaign), zap.String("runs", schema.FormatRuns(rt.Runs)))
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, limited := asynq.GetMaxRetry(ctx)
	last := limited && retried >= maxRetry
	var runs []*batchRun
	for _, it := range rt.Items() {
		runs = append(runs, &batchRun{RunItem: it, id: schema.RunID(rt.Campaign, rt.UID, it.Run),
			a: &attempt{n: it.Attempt + retried + 1, out: procexec.Result{ExitCode: -1}, log: log.With(zap.Int("run", it.Run))}})
	}
	defer func() {
		if p := recover(); p != nil {
			err = panicked(p, log)
		}
		err = h.batchEnded(ctx, runs, last, err)
	}()
	if retried > 0 {
		h.started(t, false)
		if err := h.resumeBatch(ctx, runs, retried); err != nil {
			return err
		}
	}
	defer h.changedRuns(rt.Campaign, len(runs))
	artifact, err := h.Cache.Get(ctx, rt.ArtifactKey)
	if err != nil {
		return fmt.Errorf("artifact for runs %s: %w", schema.FormatRuns(rt.Runs), err)
	}
	dir, err := workingDirOf(artifact, rt.Simulation.WorkingDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.WorkDir, 0o755); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	env := os.Environ()
	for k, v := range rt.Simulation.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, workdir.Env(h.WorkDir))
	b := &batchExec{h: h, t: t, rt: rt, artifact: artifact, dir: dir, env: env, log: log}
	for {
		todo := undone(runs)
		if len(todo) == 0 {
			return nil
		}
		if h.soloCampaign(rt.UID) {
			todo = todo[:1]
		}
		if err := b.execute(ctx, todo); err != nil {
			return err
		}
	}
}

func undone(runs []*batchRun) []*batchRun {
	var out []*batchRun
	for _, r := range runs {
		if !r.done {
			out = append(out, r)
		}
	}
	return out
}

// resumeBatch prepares a redelivered batch: the runs whose outcome an
// earlier delivery stored (or whose record is gone or failed) are done,
// and the others count the deliveries that recorded nothing.
func (h *Handler) resumeBatch(ctx context.Context, runs []*batchRun, retried int) error {
	coll := h.DB.Collection(schema.CollRuns)
	for _, r := range runs {
		done, err := h.settle(ctx, r.id)
		if err != nil {
			return err
		}
		if done {
			r.done = true
			continue
		}
		var cur struct {
			State    string `bson:"state"`
			Attempts int    `bson:"attempts"`
		}
		err = coll.FindOne(ctx, bson.M{"_id": r.id}, options.FindOne().SetProjection(bson.M{"state": 1, "attempts": 1})).Decode(&cur)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			r.done = true
		case err != nil:
			return fmt.Errorf("read run %s: %w", r.id, err)
		case cur.State == schema.RunFailed || cur.State == schema.RunSkipped:
			r.done = true // the controller alone sends a failed run back; a skipped one is not needed
		default:
			r.a.n = max(r.a.n, cur.Attempts+retried+1)
		}
	}
	return nil
}

// batchEnded turns the error of a batch's delivery into its outcome, as
// ended does for one run: a refusal, a panic and the last delivery are
// recorded as a failed attempt of every run without an outcome; any other
// error hands the task back to the queue (whose next delivery skips the
// runs already stored).
func (h *Handler) batchEnded(ctx context.Context, runs []*batchRun, last bool, err error) error {
	if err == nil {
		return nil
	}
	var errs []error
	for _, r := range runs {
		if r.done {
			continue
		}
		if e := h.ended(ctx, r.id, r.a, last, err); e != nil {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// changedRuns announces that n runs of campaign changed state.
func (h *Handler) changedRuns(campaign string, n int) {
	h.changed(schema.Announcement(campaign, n))
}

// soloCampaign reports whether this runner found that the runs of the
// campaign object uid write files it cannot attribute by their headers:
// it then executes them one process each.
func (h *Handler) soloCampaign(uid string) bool {
	h.soloMu.Lock()
	defer h.soloMu.Unlock()
	return h.solo[uid]
}

func (h *Handler) setSolo(uid string) {
	h.soloMu.Lock()
	defer h.soloMu.Unlock()
	if h.solo == nil {
		h.solo = map[string]bool{}
	}
	h.solo[uid] = true
}

// batchExec executes the processes of one batch delivery.
type batchExec struct {
	h  *Handler
	t  *asynq.Task
	rt schema.RunTask
	// artifact is the unpacked artifact in the cache; dir the program's
	// working directory in it (checked; each process runs in its copy in
	// a tree of its own, see linkTree).
	artifact, dir string
	env           []string
	log           *zap.Logger
}

// execute runs todo in one process and records the outcome of every run
// it finished or failed; runs it never started stay undone.
func (b *batchExec) execute(ctx context.Context, todo []*batchRun) error {
	h, rt := b.h, b.rt
	runDir, err := os.MkdirTemp(h.WorkDir, "batch-")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(runDir)
	cwd, err := linkTree(b.artifact, runDir, rt.Simulation.WorkingDir, rt.Results)
	if err != nil {
		return err
	}
	nums := make([]int, len(todo))
	byNum := map[int]*batchRun{}
	for i, r := range todo {
		nums[i] = r.Run
		byNum[r.Run] = r
	}
	blog := oppcli.NewBatchLog(rt.Simulation.Config, nums)
	start := time.Now()
	// Each run's time is from the end of the one before (the process's
	// start for the first) to the announcement of the next.
	ends := map[int]time.Time{}
	blog.OnFinished(func(run int) { ends[run] = time.Now() })
	argv := oppcli.RunArgv(rt.Simulation, nums) // -s included
	timeout := rt.Timeout.Duration * time.Duration(len(todo))
	// The slot is held while the process runs; storing its results holds
	// none, so that the next simulation starts meanwhile.
	release, err := h.slot(ctx)
	if err != nil {
		return fmt.Errorf("runs %s interrupted: %w", schema.FormatRuns(nums), err)
	}
	h.started(b.t, true)
	untrack := func() {}
	if h.Track != nil {
		untrack = h.Track(fmt.Sprintf("%s runs %s", rt.Campaign, schema.FormatRuns(nums)))
	}
	start = time.Now()
	out := h.executor().Run(ctx, procexec.Cmd{Argv: argv, Dir: cwd, Env: b.env, Timeout: timeout, Stdout: blog, Combined: true})
	end := time.Now()
	untrack()
	release()
	finished, failed := blog.Outcome(out, nums)
	if out.Canceled {
		// Shutting down: what finished is stored, the rest goes back.
		if err := b.store(ctx, runDir, cwd, finished, byNum, start, ends, end, out); err != nil {
			return err
		}
		return fmt.Errorf("runs %s interrupted: %w", schema.FormatRuns(nums), ctx.Err())
	}
	if len(todo) > 1 && !out.Success() && len(blog.Started()) == 0 {
		// Nothing tells which run failed: one process each.
		b.log.Info("batch failed before announcing a run; running its runs one process each", zap.String("reason", out.Describe()))
		h.setSolo(rt.UID)
		return nil
	}
	if err := b.store(ctx, runDir, cwd, finished, byNum, start, ends, end, out); err != nil {
		return err
	}
	for _, n := range failed {
		r := byNum[n]
		r.a.out, r.a.started = out, start
		msg := out.Describe()
		if out.TimedOut && n == failed[len(failed)-1] {
			msg = fmt.Sprintf("timed out after %s", timeout)
		}
		if errs := blog.Errors(n); len(errs) > 0 {
			msg += ": " + errs[0]
		}
		r.a.log.Info("run failed", zap.String("reason", msg), zap.Int("attempt", r.a.n))
		if err := h.recordFailure(ctx, r.id, r.a.n, start, out, msg); err != nil {
			return err
		}
		r.done = true
	}
	return nil
}

// store attributes the result files of the finished runs and writes them
// and their completions in one group commit.
func (b *batchExec) store(ctx context.Context, runDir, cwd string, finished []int, byNum map[int]*batchRun,
	start time.Time, ends map[int]time.Time, end time.Time, out procexec.Result) error {
	if len(finished) == 0 {
		return nil
	}
	h, rt := b.h, b.rt
	files, unsure, err := attribute(runDir, cwd, rt.Results, rt.Simulation.Config, finished, len(byNum) == 1)
	if err != nil {
		return refuse(err)
	}
	if len(unsure) > 0 {
		// Files no one run of the batch can be credited with: the runs go
		// again one process each (their attempts not counted).
		b.log.Info("result files of a batch that are no one run's; running its runs one process each",
			zap.Strings("files", unsure))
		h.setSolo(rt.UID)
		return nil
	}
	var commits []*commit
	var stored []*batchRun
	prev := start
	cpu := out.CPU() / time.Duration(len(byNum))
	for _, n := range finished {
		r := byNum[n]
		t1, ok := ends[n]
		if !ok {
			t1 = end
		}
		started := prev
		prev = t1
		r.a.started = started
		if len(files[n]) == 0 {
			msg := fmt.Sprintf("the run wrote no result files matching %s that say they are run %d of %s",
				strings.Join(rt.Results, ", "), n, rt.Simulation.Config)
			if err := h.recordFailure(ctx, r.id, r.a.n, started, out, msg); err != nil {
				return err
			}
			r.done = true
			continue
		}
		one := rt
		one.Run, one.Runs, one.Attempts = n, nil, nil
		fs, c, err := h.upload(ctx, one, r.a.n, files[n])
		if err != nil {
			for _, c := range commits {
				h.deleteFiles(c.comp.Files)
			}
			return err
		}
		c.comp = &schema.Completion{ID: r.id, Campaign: rt.Campaign, UID: rt.UID, Attempt: r.a.n, Worker: h.Worker,
			Files: fs, StderrTail: batchTail(out, len(byNum)), DurationMS: succeededMS(t1.Sub(started)), CPUMS: cpu.Milliseconds(),
			StartedAt: started.UTC(), FinishedAt: t1.UTC()}
		c.index = indexResults(one, r.a.n, pathsOf(files[n]))
		commits = append(commits, c)
		stored = append(stored, r)
	}
	if len(commits) == 0 {
		return nil
	}
	errs := h.commits.storeAll(h.writer(), commits)
	var first error
	for i, r := range stored {
		switch err := errs[i]; {
		case err == nil:
			r.done = true
		case errors.Is(err, errCompletedElsewhere):
			r.a.log.Info("run succeeded elsewhere first; dropping duplicate results")
			h.deleteFiles(commits[i].comp.Files)
			if _, err := h.settle(ctx, r.id); err != nil && first == nil {
				first = err
			}
			r.done = true
		case errors.Is(err, errUnstored):
			h.deleteFiles(commits[i].comp.Files)
			if first == nil {
				first = fmt.Errorf("store results of run %s: %w", r.id, err)
			}
		default:
			if first == nil {
				first = fmt.Errorf("store results of run %s: %w", r.id, err)
			}
		}
	}
	return first
}

// batchTail is the stderr tail a batch's completion keeps: the process's, for
// a process of one run, else nothing (the tail mixes the runs).
func batchTail(out procexec.Result, runs int) string {
	if runs == 1 {
		return out.StderrTail
	}
	return ""
}
