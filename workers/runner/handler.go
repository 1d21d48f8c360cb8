package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

	// Claim the run: nothing to do if it already succeeded, or if its
	// campaign was deleted (no record). Every filter is the lone _id (an
	// index lookup on MongoDB; on FerretDB a comparison inside SQLite
	// instead of decoding every record); exactly-once comes from the
	// completion insert, not from conditional updates.
	var cur struct {
		State string `bson:"state"`
	}
	err := runs.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"state": 1})).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) || err == nil && cur.State == jobs.RunSucceeded {
		log.Info("run already done or gone")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read run %s: %w", id, err)
	}
	now := time.Now().UTC()
	res, err := runs.UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$set": bson.M{"state": jobs.RunRunning, "worker": h.Worker, "startedAt": now, "updatedAt": now},
			"$inc": bson.M{"attempts": 1}})
	if err != nil {
		return fmt.Errorf("claim run %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		log.Info("run already done or gone")
		return nil
	}
	// An attempt that completed between the read and the claim inserted
	// its completion before it set the record; the claim must not leave
	// the record saying Running.
	if done, err := h.settle(ctx, id); err != nil || done {
		return err
	}
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
		return h.recordFailure(ctx, id, out, msg)
	}
	paths, err := resultfiles.Match(runDir, rt.Results)
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("the run produced no result files matching %s", strings.Join(rt.Results, ", "))
	}
	if err != nil {
		return h.recordFailure(ctx, id, out, err.Error())
	}
	files, err := h.upload(ctx, rt, paths)
	if err != nil {
		return err
	}
	comp := jobs.Completion{ID: id, Campaign: rt.Campaign, UID: rt.UID, Attempt: rt.Attempt, Worker: h.Worker,
		Files: files, StderrTail: out.StderrTail, DurationMS: out.Duration.Milliseconds(), CPUMS: out.CPU().Milliseconds(),
		FinishedAt: time.Now().UTC()}
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
		bson.M{"$set": bson.M{"state": jobs.RunSucceeded, "files": c.Files, "exitCode": 0, "stderrTail": c.StderrTail,
			"durationMs": c.DurationMS, "cpuMs": c.CPUMS, "message": "",
			"finishedAt": c.FinishedAt, "updatedAt": c.FinishedAt, "worker": c.Worker}})
	if err != nil {
		return fmt.Errorf("record run %s: %w", c.ID, err)
	}
	return nil
}

// settle reports whether run id has a completion, and if so makes its
// record say so (whatever a late claim or failure wrote over it).
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

func (h *Handler) recordFailure(ctx context.Context, id string, out procexec.Result, msg string) error {
	now := time.Now().UTC()
	_, err := h.DB.Collection(jobs.CollRuns).UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$set": bson.M{"state": jobs.RunFailed, "exitCode": out.ExitCode, "stderrTail": out.StderrTail,
			"message": msg, "durationMs": out.Duration.Milliseconds(), "cpuMs": out.CPU().Milliseconds(),
			"finishedAt": now, "updatedAt": now, "worker": h.Worker}})
	if err != nil {
		return fmt.Errorf("record failure of run %s: %w", id, err)
	}
	// Another attempt of the run may have succeeded meanwhile: its
	// completion wins over this failure.
	_, err = h.settle(ctx, id)
	return err
}

// defaultChunkSize is GridFS's default chunk size (255 KiB).
const defaultChunkSize = 255 * 1024

// upload stores the result files in GridFS with their metadata.
func (h *Handler) upload(ctx context.Context, rt jobs.RunTask, paths []string) ([]jobs.ResultFile, error) {
	b := h.DB.GridFSBucket(options.GridFSBucket().SetName(jobs.BucketResults))
	var files []jobs.ResultFile
	for _, p := range paths {
		name := filepath.Base(p)
		if !resultfiles.SafeName(name) {
			h.deleteFiles(files)
			return nil, fmt.Errorf("refusing result file name %q: %w", name, asynq.SkipRetry)
		}
		size, digest, err := fileDigest(p)
		if err != nil {
			h.deleteFiles(files)
			return nil, err
		}
		f, err := os.Open(p)
		if err != nil {
			h.deleteFiles(files)
			return nil, err
		}
		meta := bson.M{"campaign": rt.Campaign, "uid": rt.UID, "run": rt.Run, "attempt": rt.Attempt,
			"name": name, "size": size, "sha256": digest}
		// A chunk no larger than the file: the upload stream allocates a
		// whole chunk up front (255 KiB by default), which for the typical
		// small .sca file was most of a run's CPU in the worker.
		chunk := int32(min(max(size, 1), defaultChunkSize))
		fid, err := b.UploadFromStream(ctx, jobs.ResultName(rt.Campaign, rt.UID, rt.Run, name), f,
			options.GridFSUpload().SetMetadata(meta).SetChunkSizeBytes(chunk))
		f.Close()
		if err != nil {
			h.deleteFiles(files)
			return nil, fmt.Errorf("upload %s: %w", name, err)
		}
		rf := jobs.ResultFile{Name: name, Size: size, SHA256: digest, FileID: fid}
		files = append(files, rf)
	}
	return files, nil
}

// deleteFiles removes uploads that must not stay; best effort with its own
// deadline, since the task's context may be what failed.
func (h *Handler) deleteFiles(files []jobs.ResultFile) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := h.DB.GridFSBucket(options.GridFSBucket().SetName(jobs.BucketResults))
	for _, f := range files {
		if err := b.Delete(ctx, f.FileID); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			h.logger().Warn("cannot delete duplicate result", zap.String("file", f.Name), zap.Error(err))
		}
	}
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

// fileDigest returns a file's size and sha256.
func fileDigest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
