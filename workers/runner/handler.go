package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/workers/jobs"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/procexec"
	"github.com/simswarm/simswarm/workers/resultfiles"
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
	// changed, so that the controller reacts at once (jobs.ChangesChannel).
	Changed func(ctx context.Context, campaign string)
	// Track, if set, is told when a task starts and (by calling what it
	// returns) when it ends, for heartbeats.
	Track func(task string) (done func())

	scratch sync.Pool // chunk-sized read buffers of concurrent uploads
}

// ProcessTask implements asynq.Handler for jobs.TypeRun.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var rt jobs.RunTask
	if err := json.Unmarshal(t.Payload(), &rt); err != nil {
		return fmt.Errorf("run task payload: %v: %w", err, asynq.SkipRetry)
	}
	log := h.logger().With(zap.String("campaign", rt.Campaign), zap.Int("run", rt.Run), zap.Int("attempt", rt.Attempt))
	if h.Track != nil {
		defer h.Track(fmt.Sprintf("%s run %d", rt.Campaign, rt.Run))()
	}
	id := jobs.RunID(rt.Campaign, rt.UID, rt.Run)
	runs := h.DB.Collection(jobs.CollRuns)

	// Nothing to do if the run already succeeded, or if its campaign was
	// deleted (no record). The record is not claimed: while the run is in
	// flight the queue says so (the controller reads Queued and Running
	// off it), and every write here is an insert but the one that records
	// the outcome. On FerretDB's SQLite backend an update costs a scan of
	// the collection; inserts do not.
	var cur struct {
		State    string `bson:"state"`
		Attempts int    `bson:"attempts"`
	}
	err := runs.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"state": 1, "attempts": 1})).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) || err == nil && cur.State == jobs.RunSucceeded {
		log.Info("run already done or gone")
		return nil
	}
	if err == nil && cur.State == jobs.RunFailed {
		// Only the controller sends a failed run back (to Pending, within
		// its retries); this task is stale.
		log.Info("run already failed; not retrying it unasked")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read run %s: %w", id, err)
	}
	// Deliveries of this task that recorded nothing (a worker died, a
	// transient error) count as attempts too.
	retried, _ := asynq.GetRetryCount(ctx)
	attempt := cur.Attempts + retried + 1
	if retried > 0 {
		// A redelivery: the attempt before may have stored its results
		// and died before it recorded them.
		if done, err := h.settle(ctx, id); err != nil || done {
			return err
		}
	}
	started := time.Now().UTC()
	defer h.changed(rt.Campaign)

	dir, err := h.Cache.Get(ctx, rt.ArtifactKey)
	if err != nil {
		return fmt.Errorf("artifact for run %s: %w", id, err)
	}
	if err := os.MkdirAll(h.WorkDir, 0o755); err != nil {
		return err
	}
	runDir, err := os.MkdirTemp(h.WorkDir, "run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(runDir)
	sim := rt.Simulation
	env := os.Environ()
	for k, v := range sim.Env {
		env = append(env, k+"="+v)
	}
	out := procexec.Run(ctx, procexec.Cmd{
		Argv:    oppcli.RunArgv(sim, []int{rt.Run}, filepath.Join(runDir, "results")),
		Dir:     filepath.Join(dir, filepath.FromSlash(sim.WorkingDir)),
		Env:     env,
		Timeout: rt.Timeout.Duration,
	})
	if out.Canceled {
		// Shutting down: hand the task back for another worker.
		return fmt.Errorf("run %s interrupted: %w", id, ctx.Err())
	}
	if !out.Success() {
		msg := out.Describe()
		if out.TimedOut {
			msg = fmt.Sprintf("timed out after %s", rt.Timeout.Duration)
		}
		log.Info("run failed", zap.String("reason", msg))
		return h.recordFailure(ctx, id, attempt, started, out, msg)
	}
	paths, err := resultfiles.Match(runDir, rt.Results)
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("the run produced no result files matching %s", strings.Join(rt.Results, ", "))
	}
	if err != nil {
		return h.recordFailure(ctx, id, attempt, started, out, err.Error())
	}
	files, err := h.upload(ctx, rt, attempt, paths)
	if err != nil {
		return err
	}
	comp := jobs.Completion{ID: id, Campaign: rt.Campaign, UID: rt.UID, Attempt: attempt, Worker: h.Worker,
		Files: files, StderrTail: out.StderrTail, DurationMS: out.Duration.Milliseconds(), CPUMS: out.CPU().Milliseconds(),
		StartedAt: started, FinishedAt: time.Now().UTC()}
	if _, err := h.DB.Collection(jobs.CollCompletions).InsertOne(ctx, comp); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			// Another attempt stored its results first: keep exactly one set.
			log.Info("run succeeded elsewhere first; dropping duplicate results")
			h.deleteFiles(files)
			_, err := h.settle(ctx, id)
			return err
		}
		// The insert may have happened: the files stay (the retry settles
		// the run from the completion, or stores a new set).
		return fmt.Errorf("record completion of run %s: %w", id, err)
	}
	if err := h.setSucceeded(ctx, &comp); err != nil {
		return err // the retry settles the run from its completion
	}
	return nil
}

// setSucceeded writes a completion's outcome onto its run record.
func (h *Handler) setSucceeded(ctx context.Context, c *jobs.Completion) error {
	_, err := h.DB.Collection(jobs.CollRuns).UpdateOne(ctx, bson.M{"_id": c.ID},
		bson.M{"$set": c.RecordFields()})
	if err != nil {
		return fmt.Errorf("record run %s: %w", c.ID, err)
	}
	return nil
}

// settle reports whether run id has a completion, and if so makes its
// record say so (whatever a late failure wrote over it).
func (h *Handler) settle(ctx context.Context, id string) (bool, error) {
	var c jobs.Completion
	err := h.DB.Collection(jobs.CollCompletions).FindOne(ctx, bson.M{"_id": id}).Decode(&c)
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
	_, err := h.DB.Collection(jobs.CollRuns).UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$set": bson.M{"state": jobs.RunFailed, "attempts": attempt, "exitCode": out.ExitCode, "stderrTail": out.StderrTail,
			"message": msg, "durationMs": out.Duration.Milliseconds(), "cpuMs": out.CPU().Milliseconds(),
			"startedAt": started, "finishedAt": now, "updatedAt": now, "worker": h.Worker}})
	if err != nil {
		return fmt.Errorf("record failure of run %s: %w", id, err)
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
