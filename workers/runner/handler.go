package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
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

// Handler processes run tasks.
type Handler struct {
	DB    *mongo.Database
	Cache *Cache
	// WorkDir holds the private result directories of running attempts.
	WorkDir string
	// Worker names this process on run records.
	Worker string
	Log    *zap.Logger
	// Changed, if set, is told the campaign after its run/build record
	// changed, so that the controller reacts at once (schema.ChangesChannel):
	// its name, or a schema.Announcement of a batch's runs.
	Changed func(ctx context.Context, campaign string)
	// Track, if set, is told when a task starts and (by calling what it
	// returns) when it ends, for heartbeats.
	Track func(task string) (done func())

	// Slots, if above zero, bounds the simulations running at once. The
	// tasks carried out at once (the queue's concurrency) may be more: a
	// task reading its record or storing its results holds no slot, so
	// the next simulation starts meanwhile.
	Slots int
	// Exec runs the simulations; nil: each is a process (procexec). Tests
	// only set it.
	Exec Executor
	// Gate, if set, bounds the runners writing to the database at once
	// (dbgate.Gate): each group commit holds a place while it writes.
	Gate WriteGate

	scratch  sync.Pool // chunk-sized read buffers of concurrent uploads
	commits  groupCommit
	simsOnce sync.Once
	sims     chan struct{}
	soloMu   sync.Mutex
	solo     map[string]bool // campaign uids whose batches run one process per run
}

// ProcessTask implements asynq.Handler for schema.TypeRun.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) (err error) {
	var rt schema.RunTask
	if err := json.Unmarshal(t.Payload(), &rt); err != nil {
		// No run to record it on: the queue archives the task, and the
		// controller records the failure on the run its ID names.
		h.logger().Warn("unreadable run task", zap.Error(err))
		return fmt.Errorf("run task payload: %v: %w", err, asynq.SkipRetry)
	}
	if len(rt.Runs) > 1 {
		return h.processBatch(ctx, t, rt)
	}
	log := h.logger().With(zap.String("campaign", rt.Campaign), zap.Int("run", rt.Run))
	id := schema.RunID(rt.Campaign, rt.UID, rt.Run)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, limited := asynq.GetMaxRetry(ctx)
	last := limited && retried >= maxRetry
	a := &attempt{n: rt.Attempt + retried + 1, out: procexec.Result{ExitCode: -1}, log: log}
	defer func() {
		if p := recover(); p != nil {
			err = h.ended(ctx, id, a, last, panicked(p, a.log))
		}
	}()
	return h.ended(ctx, id, a, last, h.process(ctx, t, rt, id, retried, a))
}

// process carries out one delivery of a run task; a is kept up to date
// for the record of a failure.
func (h *Handler) process(ctx context.Context, t *asynq.Task, rt schema.RunTask, id string, retried int, a *attempt) error {
	runs := h.DB.Collection(schema.CollRuns)

	// The record is not read, nor claimed: while the run is in flight the
	// queue says so (the controller reads Queued and Running off it), and
	// the task carries the attempts recorded when it was sent. Every write
	// here is an insert but the one that records the outcome, and the
	// insert of the completion is what decides, exactly once, which
	// attempt's results count. A stale task (a run that finished since it
	// was sent) costs the run and nothing else.
	if retried > 0 {
		// Held again, until the simulation takes a slot.
		h.started(t, false)
		// A redelivery: the attempt before may have stored its results and
		// died before it recorded them, or recorded an outcome.
		if done, err := h.settle(ctx, id); err != nil || done {
			return err
		}
		var cur struct {
			State    string `bson:"state"`
			Attempts int    `bson:"attempts"`
		}
		err := runs.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"state": 1, "attempts": 1})).Decode(&cur)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			a.log.Info("run gone (campaign deleted)")
			return nil
		case err != nil:
			return fmt.Errorf("read run %s: %w", id, err)
		case cur.State == schema.RunFailed || cur.State == schema.RunSkipped:
			// Only the controller sends a failed run back (to Pending,
			// within its retries); a skipped run is not needed.
			a.log.Info("run already failed or skipped; not running it unasked", zap.String("state", cur.State))
			return nil
		}
		// Deliveries of this task that recorded nothing (a worker died, a
		// transient error) count as attempts too.
		a.n = max(a.n, cur.Attempts+retried+1)
	}
	a.log = a.log.With(zap.Int("attempt", a.n))
	defer h.changed(rt.Campaign)

	artifact, err := h.Cache.Get(ctx, rt.ArtifactKey)
	if err != nil {
		return fmt.Errorf("artifact for run %s: %w", id, err)
	}
	// The working directory must be a directory of the artifact (the run
	// starts in its copy in the run's tree).
	if _, err := workingDirOf(artifact, rt.Simulation.WorkingDir); err != nil {
		return fmt.Errorf("run %s: %w", id, err)
	}
	if err := os.MkdirAll(h.WorkDir, 0o755); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	runDir, err := os.MkdirTemp(h.WorkDir, "run-")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(runDir)
	sim := rt.Simulation
	cwd, err := linkTree(artifact, runDir, sim.WorkingDir, rt.Results)
	if err != nil {
		return err
	}
	env := os.Environ()
	for k, v := range sim.Env {
		env = append(env, k+"="+v)
	}
	// Last, so that the simulation's own env cannot hide it: marks the
	// simulation and its children as this worker's (workdir).
	env = append(env, workdir.Env(h.WorkDir))
	release, err := h.slot(ctx)
	if err != nil {
		return fmt.Errorf("run %s interrupted: %w", id, err)
	}
	h.started(t, true)
	untrack := func() {}
	if h.Track != nil {
		// The heartbeat lists what the slots run, not the tasks held.
		untrack = h.Track(fmt.Sprintf("%s run %d", rt.Campaign, rt.Run))
	}
	a.started = time.Now().UTC()
	out := h.executor().Run(ctx, procexec.Cmd{
		Argv:    oppcli.RunArgv(sim, []int{rt.Run}),
		Dir:     cwd,
		Env:     env,
		Timeout: rt.Timeout.Duration,
	})
	untrack()
	release()
	a.out = out
	if out.Canceled {
		// Shutting down: hand the task back for another worker.
		return fmt.Errorf("run %s interrupted: %w", id, ctx.Err())
	}
	if !out.Success() {
		out.StderrTail = redirectedError(runDir, cwd, out.StderrTail)
		msg := out.Describe()
		if out.TimedOut {
			msg = fmt.Sprintf("timed out after %s", rt.Timeout.Duration)
		}
		a.log.Info("run failed", zap.String("reason", msg))
		return h.recordFailure(ctx, id, a.n, a.started, out, msg)
	}
	byRun, _, err := attribute(runDir, cwd, rt.Results, sim.Config, []int{rt.Run}, true)
	paths := byRun[rt.Run]
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("the run produced no result files matching %s", strings.Join(rt.Results, ", "))
	}
	if err != nil {
		return h.recordFailure(ctx, id, a.n, a.started, out, err.Error())
	}
	files, c, err := h.upload(ctx, rt, a.n, paths)
	if err != nil {
		return err
	}
	c.index = indexResults(rt, a.n, pathsOf(paths))
	c.comp = &schema.Completion{ID: id, Campaign: rt.Campaign, UID: rt.UID, Attempt: a.n, Worker: h.Worker,
		Files: files, StderrTail: out.StderrTail, DurationMS: succeededMS(out.Duration), CPUMS: out.CPU().Milliseconds(),
		StartedAt: a.started, FinishedAt: time.Now().UTC()}
	switch err := h.commits.store(h.writer(), c); {
	case errors.Is(err, errCompletedElsewhere):
		// Another attempt stored its results first: keep exactly one set.
		a.log.Info("run succeeded elsewhere first; dropping duplicate results")
		h.deleteFiles(files)
		_, err := h.settle(ctx, id)
		return err
	case errors.Is(err, errUnstored):
		h.deleteFiles(files)
		return fmt.Errorf("store results of run %s: %w", id, err)
	case err != nil:
		// The completion may have been stored: the files stay (the retry
		// settles the run from the completion, or stores a new set).
		return fmt.Errorf("store results of run %s: %w", id, err)
	}
	return nil
}

// started marks task t started (its simulation has a slot) or held, on
// the task in the queue (schema.TaskStarted), where the controller counts
// Running and Queued from. Best effort: a mark that fails to be written
// miscounts one run for a moment.
func (h *Handler) started(t *asynq.Task, yes bool) {
	w := t.ResultWriter()
	if w == nil {
		return // not from a queue (tests)
	}
	mark := []byte(nil)
	if yes {
		mark = []byte(schema.TaskStarted)
	}
	if _, err := w.Write(mark); err != nil {
		h.logger().Debug("cannot mark the task started", zap.String("task", w.TaskID()), zap.Error(err))
	}
}

// slot waits for a simulation slot (see Slots) and returns its release.
func (h *Handler) slot(ctx context.Context) (func(), error) {
	if h.Slots <= 0 {
		return func() {}, nil
	}
	h.simsOnce.Do(func() { h.sims = make(chan struct{}, h.Slots) })
	select {
	case h.sims <- struct{}{}:
		return func() { <-h.sims }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// setSucceeded writes a completion's outcome onto its run record.
func (h *Handler) setSucceeded(ctx context.Context, c *schema.Completion) error {
	_, err := h.DB.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": c.ID},
		bson.M{"$set": c.RecordFields()})
	if err != nil {
		return fmt.Errorf("record run %s: %w", c.ID, err)
	}
	return nil
}

// settle reports whether run id has a completion, and if so makes its
// record say so (whatever a late failure wrote over it).
func (h *Handler) settle(ctx context.Context, id string) (bool, error) {
	var c schema.Completion
	err := h.DB.Collection(schema.CollCompletions).FindOne(ctx, bson.M{"_id": id}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read completion of run %s: %w", id, err)
	}
	h.logger().Info("run already completed; record settled", zap.String("run", id))
	return true, h.setSucceeded(ctx, &c)
}

func (h *Handler) recordFailure(ctx context.Context, id string, attempt int, started time.Time, out procexec.Result, msg string) error {
	now := time.Now().UTC()
	set := bson.M{"state": schema.RunFailed, "exitCode": out.ExitCode, "stderrTail": out.StderrTail,
		"message": msg, "durationMs": out.Duration.Milliseconds(), "cpuMs": out.CPU().Milliseconds(),
		"finishedAt": now, "updatedAt": now, "worker": h.Worker}
	if !started.IsZero() {
		set["startedAt"] = started
	}
	// Conditional: a stale attempt (a runner paused past its run's redo)
	// never writes over a Succeeded record, not even for the moment
	// before settle would set it back. It costs FerretDB's SQLite backend
	// a scan of the collection (a filter beyond a lone _id), paid by
	// failures only. $max: a stale task's attempt must not lower the count
	// the controller's retries go by.
	res, err := h.DB.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$nin": bson.A{schema.RunSucceeded, schema.RunSkipped}}},
		bson.M{"$max": bson.M{"attempts": attempt}, "$set": set,
			"$addToSet": bson.M{"failureKinds": failureKind(msg, out.StderrTail)}})
	if err != nil {
		return fmt.Errorf("record failure of run %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		h.logger().Info("run already succeeded or skipped; this attempt's failure is not recorded", zap.String("run", id),
			zap.String("reason", msg))
		return nil
	}
	// Another attempt of the run may have succeeded meanwhile: its
	// completion wins over this failure.
	_, err = h.settle(ctx, id)
	return err
}

// changed announces that a run of campaign changed state; best effort (the
// controller's periodic resync covers a lost announcement).
func (h *Handler) changed(campaign string) {
	if h.Changed == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.Changed(ctx, campaign)
}

func (h *Handler) logger() *zap.Logger {
	if h.Log == nil {
		return zap.NewNop()
	}
	return h.Log
}

// succeededMS is a succeeded run's duration in whole milliseconds, rounded
// up and at least one: the controller sizes batches from the durations of
// succeeded runs, and a sum of zero says nothing is known of them (one
// run per task), so runs shorter than a millisecond must not record zero.
func succeededMS(d time.Duration) int64 {
	return max(1, int64((d+time.Millisecond-1)/time.Millisecond))
}
