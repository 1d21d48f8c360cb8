package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/runlist"
	"github.com/simswarm/simswarm/workers/tarball"
)

// listRuns asks the program built in root which runs the task's campaign
// has (-q runs, with its -r filter) and saves the answer as the build's run
// list. The program's refusal (a bad ini, a filter that selects a run that
// does not exist) is saved as the list's failure for the campaign to show;
// only storage errors are returned.
func (h *Handler) listRuns(ctx context.Context, bt schema.BuildTask, root, modelKey string) error {
	if bt.Simulation == nil || len(bt.Simulation.Program) == 0 {
		return nil
	}
	q := runlist.QueryOf(*bt.Simulation)
	id := runlist.ID(bt.Key, q)
	dir, err := workingDirIn(root, q.WorkingDir, bt.Build.Artifacts)
	if err != nil {
		return runlist.SaveFailure(ctx, h.DB, id, bt.Key, err.Error())
	}
	env := os.Environ()
	for k, v := range bt.Build.Env {
		env = append(env, k+"="+v)
	}
	base, identifiable, why := identityBase(ctx, q, dir, env, modelKey)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !identifiable {
		return h.streamRuns(ctx, bt, q, id, dir, env, why)
	}
	runs, qerr := oppcli.QueryRuns(ctx, q.Program, dir, q.IniFile, q.Config, q.Filter, env)
	if qerr != nil {
		return h.refused(ctx, bt, q, id, qerr)
	}
	ids, why := identify(ctx, q, dir, env, modelKey, base, runs, h.MaxIdentifiedRuns)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := runlist.SaveIdentified(ctx, h.DB, id, bt.Key, runs, ids, why); err != nil {
		return err
	}
	h.logger().Info("runs listed by the program", zap.String("key", bt.Key), zap.String("config", q.Config), zap.Int("runs", len(runs)),
		zap.Bool("identified", ids != nil), zap.String("unidentified", why))
	return nil
}

// streamRuns lists the runs of a program that gives them no identities,
// storing the list as the program writes it (package runlist's Writer):
// the upload of a million-run list goes on alongside the program instead
// of after it. The list's record is written once the program has listed
// every run and said nothing wrong; a list cut short (the program failed,
// or the builder stopped) is never recorded.
func (h *Handler) streamRuns(ctx context.Context, bt schema.BuildTask, q runlist.Query, id, dir string, env []string, why string) error {
	w, err := runlist.Create(ctx, h.DB, id, bt.Key)
	if err != nil {
		return err
	}
	n, qerr := oppcli.QueryRunsEach(ctx, q.Program, dir, q.IniFile, q.Config, q.Filter, env, w.Add)
	if qerr != nil {
		w.Abort()
		return h.refused(ctx, bt, q, id, qerr)
	}
	if ctx.Err() != nil {
		w.Abort()
		return ctx.Err()
	}
	if err := w.Commit(ctx, why); err != nil {
		return err
	}
	h.logger().Info("runs listed by the program", zap.String("key", bt.Key), zap.String("config", q.Config), zap.Int("runs", n),
		zap.Bool("identified", false), zap.String("unidentified", why))
	return nil
}

// refused records that the program did not list the runs (qerr), unless
// the builder is stopping.
func (h *Handler) refused(ctx context.Context, bt schema.BuildTask, q runlist.Query, id string, qerr error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	h.logger().Info("the program did not list its runs", zap.String("key", bt.Key), zap.String("config", q.Config), zap.Error(qerr))
	return runlist.SaveFailure(ctx, h.DB, id, bt.Key, qerr.Error())
}

// listRunsOfArtifact lists the runs of a campaign whose build had already
// succeeded (another campaign's, or an earlier query): from the stored
// artifact, unpacked as a runner would unpack it.
func (h *Handler) listRunsOfArtifact(ctx context.Context, bt schema.BuildTask) error {
	if bt.Simulation == nil || len(bt.Simulation.Program) == 0 {
		return nil
	}
	id := runlist.ID(bt.Key, runlist.QueryOf(*bt.Simulation))
	if rec, err := runlist.Get(ctx, h.DB, id); err != nil || rec != nil {
		return err
	}
	if err := os.MkdirAll(h.WorkDir, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(h.WorkDir, "runs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := gridfs.OpenByName(ctx, h.DB, schema.BucketArtifacts, schema.ArtifactName(bt.Key))
	if errors.Is(err, mongo.ErrFileNotFound) {
		return fmt.Errorf("artifact %s of a succeeded build is missing", bt.Key)
	}
	if err != nil {
		return fmt.Errorf("open artifact %s: %w", bt.Key, err)
	}
	defer st.Close()
	root := filepath.Join(dir, "artifact")
	if err := tarball.Extract(st, root, tarball.DefaultLimit); err != nil {
		return fmt.Errorf("unpack artifact %s: %w", bt.Key, err)
	}
	var b schema.BuildRecord
	if err := h.DB.Collection(schema.CollBuilds).FindOne(ctx, bson.M{"_id": bt.Key}).Decode(&b); err != nil {
		return fmt.Errorf("read build %s: %w", bt.Key, err)
	}
	return h.listRuns(ctx, bt, root, b.ModelKey)
}

// workingDirIn is the directory the runs start in, wd inside root (the
// built source tree, or the unpacked artifact on a cache hit), refused
// unless it is a directory there and lies in the build's artifacts:
// runners start the runs in the unpacked artifacts, so a directory only
// the source tree has would give a run list that no runner can start.
func workingDirIn(root, wd string, artifacts []string) (string, error) {
	if wd == "" {
		wd = "."
	}
	if len(artifacts) == 0 {
		artifacts = []string{"."}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", err
	}
	defer r.Close()
	// Through the os.Root: neither a ".." nor a link leads out of root.
	st, err := r.Stat(filepath.FromSlash(wd))
	if err != nil || !st.IsDir() || !api.WorkingDirInArtifacts(wd, artifacts) {
		return "", fmt.Errorf("spec.simulation.workingDir %q is not a directory in the build's artifacts (%s)",
			wd, strings.Join(artifacts, ", "))
	}
	return filepath.Join(root, filepath.FromSlash(wd)), nil
}
