package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/local"
	"github.com/simswarm/simswarm/workers/procexec"
	"github.com/simswarm/simswarm/workers/tarball"
	"github.com/simswarm/simswarm/workers/workdir"
)

// HostSource tells the current distcc host list (DISTCC_HOSTS syntax,
// space separated); empty means compile locally.
type HostSource interface {
	DistccHosts(ctx context.Context) (string, error)
}

// RedisHosts reads the list the stack reconciler publishes, falling back to
// Static when Redis holds none.
type RedisHosts struct {
	Client redis.UniversalClient
	Static string
}

// DistccHosts implements HostSource.
func (r RedisHosts) DistccHosts(ctx context.Context) (string, error) {
	v, err := r.Client.Get(ctx, schema.DistccHostsKey).Result()
	if errors.Is(err, redis.Nil) || (err == nil && strings.TrimSpace(v) == "") {
		return r.Static, nil
	}
	if err != nil {
		return "", fmt.Errorf("read distcc hosts: %w", err)
	}
	return strings.TrimSpace(v), nil
}

// Handler processes build tasks.
type Handler struct {
	DB    *mongo.Database
	Hosts HostSource // nil: no distcc
	// HostsWait is how long a build waits for a distcc host list when there
	// is none yet (on a freshly deployed stack the distcc tasks may still
	// be starting); 0 builds locally at once.
	HostsWait time.Duration
	// DistccMasquerade is distcc's directory of links named like the
	// compilers (DefaultDistccMasquerade when empty): with distcc hosts it
	// goes first on the build's PATH, so makefiles that name their
	// compiler themselves compile through distcc too.
	DistccMasquerade string
	WorkDir          string
	// Jobs is make's parallelism without distcc; 0 = number of CPUs.
	Jobs int
	// MaxIdentifiedRuns bounds the runs of a list that get identities
	// (0: DefaultMaxIdentifiedRuns).
	MaxIdentifiedRuns int
	Worker            string
	Log               *zap.Logger
	// Changed and Track: see runner.Handler.
	Changed func(ctx context.Context, campaign string)
	Track   func(task string) (done func())
}

// logTailBytes is how much of a build log the record keeps.
const logTailBytes = 8 << 10

// ProcessTask implements asynq.Handler for schema.TypeBuild.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) (err error) {
	var bt schema.BuildTask
	if err := json.Unmarshal(t.Payload(), &bt); err != nil {
		// No build to record it on: the queue archives the task, and the
		// controller fails the build its campaign waits for.
		h.logger().Warn("unreadable build task", zap.Error(err))
		return fmt.Errorf("build task payload: %v: %w", err, asynq.SkipRetry)
	}
	log := h.logger().With(zap.String("campaign", bt.Campaign), zap.String("key", bt.Key))
	if h.Track != nil {
		defer h.Track("build " + bt.Campaign)()
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, limited := asynq.GetMaxRetry(ctx)
	last := limited && retried >= maxRetry
	defer func() {
		if p := recover(); p != nil {
			log.Error("build panicked", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			err = h.ended(ctx, bt.Key, log, true, fmt.Errorf("builder panicked: %v", p))
		}
	}()
	return h.ended(ctx, bt.Key, log, last, h.process(ctx, bt, log))
}

// ended turns the error of one delivery into its outcome: on the last
// delivery the queue allows (or after a panic) the build is recorded as
// failed, which is no error for the queue; before it the error goes back
// to the queue, which retries the task. Every failure is logged here,
// once, at warning level.
func (h *Handler) ended(ctx context.Context, key string, log *zap.Logger, last bool, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		log.Info("build interrupted; the task goes back to the queue", zap.Error(err))
		return err
	}
	if !last {
		log.Warn("build attempt failed; the queue retries it", zap.Error(err))
		return err
	}
	log.Warn("build failed", zap.Error(err))
	if ferr := h.fail(ctx, key, err.Error(), ""); ferr != nil {
		// The controller fails a build whose task the queue gave up on.
		return fmt.Errorf("%w (and recording it: %v)", err, ferr)
	}
	return nil
}

// process carries out one delivery of a build task.
func (h *Handler) process(ctx context.Context, bt schema.BuildTask, log *zap.Logger) error {
	builds := h.DB.Collection(schema.CollBuilds)
	now := time.Now().UTC()
	res, err := builds.UpdateOne(ctx, bson.M{"_id": bt.Key, "state": bson.M{"$ne": schema.BuildSucceeded}},
		bson.M{"$set": bson.M{"state": schema.BuildRunning, "worker": h.Worker, "updatedAt": now}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		if mongo.IsDuplicateKeyError(err) {
			log.Info("build cache hit")
			return h.listCached(ctx, bt) // the upsert met a Succeeded record
		}
		return fmt.Errorf("claim build %s: %w", bt.Key, err)
	}
	if res.MatchedCount == 0 && res.UpsertedCount == 0 {
		log.Info("build cache hit")
		return h.listCached(ctx, bt)
	}
	if h.Changed != nil {
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			h.Changed(cctx, schema.BuildAnnouncement(bt.Campaign))
		}()
	}

	if err := os.MkdirAll(h.WorkDir, 0o755); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	dir, err := os.MkdirTemp(h.WorkDir, "build-")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src")
	if err := h.fetchSource(ctx, bt.Source, src); err != nil {
		if errors.Is(err, errBadSource) {
			return h.fail(ctx, bt.Key, err.Error(), "")
		}
		return err
	}
	// Before the build, which may write into the tree.
	model, err := modelKey(bt.Build, src)
	if err != nil {
		return fmt.Errorf("%w: %v", errLocal, err)
	}
	start := time.Now()
	var out procexec.Result
	if !bt.Build.Prebuilt { // a prebuilt model's source is its artifact
		if out, err = h.build(ctx, bt.Build, src, dir); err != nil {
			return err
		}
	}
	if out.Canceled {
		return fmt.Errorf("build %s interrupted: %w", bt.Key, ctx.Err())
	}
	if !out.Success() {
		log.Info("build failed", zap.String("reason", out.Describe()))
		return h.fail(ctx, bt.Key, "build "+out.Describe(), out.StderrTail)
	}
	archive := filepath.Join(dir, "artifact.tar.gz")
	sha, size, err := pack(bt.Build, src, archive)
	if errors.Is(err, errLocal) {
		return err
	}
	if err != nil {
		return h.fail(ctx, bt.Key, "pack artifacts: "+err.Error(), out.StderrTail)
	}
	// The runs are listed before the build is marked Succeeded, so the
	// controller finds them with it, and in the artifacts unpacked as a
	// runner unpacks them: the source tree may hold an ini file, NED files
	// or a working directory that the runners never get.
	if bt.Simulation != nil && len(bt.Simulation.Program) > 0 {
		view := filepath.Join(dir, "artifact")
		if err := unpackFile(archive, view); errors.Is(err, tarball.ErrUnsafe) {
			// Every runner would refuse it too.
			return h.fail(ctx, bt.Key, "the artifacts cannot be unpacked on a runner: "+err.Error(), out.StderrTail)
		} else if err != nil {
			return fmt.Errorf("unpack artifact %s to list its runs: %w", bt.Key, err)
		}
		if err := h.listRuns(ctx, bt, view, model); err != nil {
			return err
		}
		if err := os.RemoveAll(view); err != nil {
			return err
		}
	}
	return h.store(ctx, bt, archive, sha, size, model, out.StderrTail, time.Since(start))
}

// listCached lists the runs of a build that had succeeded before and
// announces them as a fresh build's: the campaign's first records wait for
// the pass the announcement starts, not for its next poll.
func (h *Handler) listCached(ctx context.Context, bt schema.BuildTask) error {
	if err := h.listRunsOfArtifact(ctx, bt); err != nil {
		return err
	}
	if h.Changed != nil {
		h.Changed(ctx, schema.BuildAnnouncement(bt.Campaign))
	}
	return nil
}

// errLocal marks an error of this host's disk, which the queue retries.
var errLocal = errors.New("local disk")

// pack writes the build's artifacts (paths in src) to the tar.gz file
// archive and returns its sha256 and size.
func pack(b api.BuildSpec, src, archive string) (string, int64, error) {
	artifacts := b.Artifacts
	if len(artifacts) == 0 {
		artifacts = []string{"."}
	}
	f, err := os.Create(archive)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", errLocal, err)
	}
	sha, size, err := tarball.Pack(src, artifacts, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		return "", 0, fmt.Errorf("%w: %v", errLocal, cerr)
	}
	return sha, size, err
}

// unpackFile unpacks the tar.gz file archive into dir.
func unpackFile(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	return tarball.Extract(f, dir, tarball.DefaultLimit)
}

var errBadSource = errors.New("source unusable")

func (h *Handler) fetchSource(ctx context.Context, s api.SourceSpec, src string) error {
	switch {
	case s.Git != nil:
		if err := local.GitCheckout(ctx, s.Git.URL, s.Git.Commit, src); err != nil {
			return fmt.Errorf("%w: %v", errBadSource, err)
		}
		return nil
	case s.Archive != "":
		stream, err := gridfs.OpenByName(ctx, h.DB, schema.BucketSources, schema.SourceName(s.Archive))
		if errors.Is(err, mongo.ErrFileNotFound) {
			return fmt.Errorf("%w: source archive %s was never uploaded", errBadSource, s.Archive)
		}
		if err != nil {
			return fmt.Errorf("open source archive: %w", err)
		}
		defer stream.Close()
		if err := tarball.Extract(stream, src, tarball.DefaultLimit); err != nil {
			if errors.Is(err, tarball.ErrUnsafe) {
				return fmt.Errorf("%w: %v", errBadSource, err)
			}
			return fmt.Errorf("unpack source archive: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("%w: the task names neither a git commit nor an uploaded archive", errBadSource)
	}
}

// distccHostsPoll is how often a waiting build looks for a host list.
const distccHostsPoll = 500 * time.Millisecond

// distccHosts returns the host list, waiting up to HostsWait for one.
func (h *Handler) distccHosts(ctx context.Context) (string, error) {
	deadline := time.Now().Add(h.HostsWait)
	logged := false
	for {
		hosts, err := h.Hosts.DistccHosts(ctx)
		if err != nil || hosts != "" || !time.Now().Before(deadline) {
			return hosts, err
		}
		if !logged {
			h.logger().Info("no distcc hosts yet; waiting for them", zap.Duration("wait", h.HostsWait))
			logged = true
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(distccHostsPoll):
		}
	}
}

// build runs the build command; with distcc hosts, CC goes through distcc and
// make gets two jobs per host.
func (h *Handler) build(ctx context.Context, b api.BuildSpec, src, dir string) (procexec.Result, error) {
	jobsN := h.Jobs
	if jobsN <= 0 {
		jobsN = runtime.NumCPU()
	}
	env := os.Environ()
	for k, v := range b.Env {
		env = append(env, k+"="+v)
	}
	if h.Hosts != nil {
		hosts, err := h.distccHosts(ctx)
		if err != nil {
			return procexec.Result{}, err
		}
		if hosts != "" {
			n := len(strings.Fields(hosts))
			jobsN = max(jobsN, 2*n)
			// distcc keeps its locks in DISTCC_DIR, which must exist.
			distccDir := filepath.Join(dir, ".distcc")
			if err := os.MkdirAll(distccDir, 0o755); err != nil {
				return procexec.Result{}, err
			}
			masquerade := h.DistccMasquerade
			if masquerade == "" {
				masquerade = DefaultDistccMasquerade
			}
			env = distccEnv(env, b.Env, hosts, distccDir, masquerade)
			h.logger().Info("building through distcc", zap.String("hosts", hosts), zap.Int("jobs", jobsN))
		}
	}
	env = append(env, fmt.Sprintf("MAKEFLAGS=-j%d", jobsN), workdir.Env(h.WorkDir))
	logFile, err := os.Create(filepath.Join(dir, "build.log"))
	if err != nil {
		return procexec.Result{}, err
	}
	defer logFile.Close()
	return procexec.Run(ctx, procexec.Cmd{Argv: b.Command, Dir: src, Env: env, Stdout: logFile, Stderr: logFile,
		TailBytes: logTailBytes}), nil
}

// store uploads the packed artifacts and marks the build Succeeded.
func (h *Handler) store(ctx context.Context, bt schema.BuildTask, archive, sha string, size int64, model, logTail string, took time.Duration) error {
	// A crashed earlier attempt may have left a partial upload under the name.
	if err := deleteByName(ctx, h.DB, schema.BucketArtifacts, schema.ArtifactName(bt.Key)); err != nil {
		return err
	}
	in, err := os.Open(archive)
	if err != nil {
		return err
	}
	up, err := gridfs.Upload(ctx, h.DB, schema.BucketArtifacts, schema.ArtifactName(bt.Key), in,
		bson.M{"key": bt.Key, "sha256": sha, "campaign": bt.Campaign})
	in.Close()
	if err != nil {
		return fmt.Errorf("upload artifact %s: %w", bt.Key, err)
	}
	fid := up.ID
	now := time.Now().UTC()
	res, err := h.DB.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": bt.Key, "state": bson.M{"$ne": schema.BuildSucceeded}},
		bson.M{"$set": bson.M{"state": schema.BuildSucceeded, "artifactId": fid, "size": size, "sha256": sha,
			"logTail": logTail, "worker": h.Worker, "updatedAt": now, "durationMs": took.Milliseconds(), "modelKey": model}})
	if err != nil {
		return fmt.Errorf("record build %s: %w", bt.Key, err)
	}
	if res.MatchedCount == 0 {
		// Built twice: keep the first.
		_ = h.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts)).Delete(ctx, fid)
	}
	h.logger().Info("build stored", zap.String("key", bt.Key), zap.Int64("bytes", size), zap.Duration("took", took))
	return nil
}

func (h *Handler) fail(ctx context.Context, key, msg, logTail string) error {
	_, err := h.DB.Collection(schema.CollBuilds).UpdateOne(ctx, bson.M{"_id": key, "state": bson.M{"$ne": schema.BuildSucceeded}},
		bson.M{"$set": bson.M{"state": schema.BuildFailed, "logTail": logTail + "\n" + msg, "worker": h.Worker,
			"updatedAt": time.Now().UTC()}})
	if err != nil {
		return fmt.Errorf("record build failure %s: %w", key, err)
	}
	return nil
}

func deleteByName(ctx context.Context, db *mongo.Database, bucket, name string) error {
	b := db.GridFSBucket(options.GridFSBucket().SetName(bucket))
	cur, err := db.Collection(bucket+".files").Find(ctx, bson.M{"filename": name})
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	var docs []struct {
		ID any `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	for _, d := range docs {
		if err := b.Delete(ctx, d.ID); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			return fmt.Errorf("delete stale %s: %w", name, err)
		}
	}
	return nil
}

func (h *Handler) logger() *zap.Logger {
	if h.Log == nil {
		return zap.NewNop()
	}
	return h.Log
}
