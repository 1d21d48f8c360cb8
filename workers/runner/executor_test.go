package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/procexec"
)

// timerExec stands in for the program: it writes one result file into
// its result directory (results/ in its working directory, as opp_run)
// and records the argv it was given.
type timerExec struct{ argv [][]string }

func (e *timerExec) Run(_ context.Context, c procexec.Cmd) procexec.Result {
	e.argv = append(e.argv, c.Argv)
	dir := filepath.Join(c.Dir, "results")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "General-#7.sca"), []byte("run injected\n"), 0o644)
	return procexec.Result{ExitCode: 0}
}

// TestInjectedExecutorRunsTheSimulation: a Handler with an Exec runs its
// simulations through it (no process: the artifact's program would have
// written other files) and stores what it wrote like a program's results.
func TestInjectedExecutorRunsTheSimulation(t *testing.T) {
	db := setup(t, "[General]\n")
	h := handler(t, db, t.TempDir())
	ex := &timerExec{}
	h.Exec = ex
	if err := h.ProcessTask(context.Background(), task(t, db, 7)); err != nil {
		t.Fatal(err)
	}
	if len(ex.argv) != 1 || !slices.Contains(ex.argv[0], "./fakesim") || !slices.Contains(ex.argv[0], "7") {
		t.Fatalf("executor given %q, want one invocation of ./fakesim for run 7", ex.argv)
	}
	r := record(t, db, 7)
	if r.State != schema.RunSucceeded || len(r.Files) != 1 || r.Files[0].Name != "General-#7.sca" {
		t.Fatalf("record %+v, want Succeeded with the injected run's one file", r)
	}
}
