package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/procexec"
)

// instantExec simulates every run of its -r filter at once (well below a
// millisecond), announcing each as Cmdenv does and writing a result file
// whose header names it.
type instantExec struct{}

func (instantExec) Run(_ context.Context, c procexec.Cmd) procexec.Result {
	runs := ""
	for i, a := range c.Argv {
		if a == "-r" && i+1 < len(c.Argv) {
			runs = c.Argv[i+1]
		}
	}
	dir := filepath.Join(c.Dir, "results")
	os.MkdirAll(dir, 0o755)
	for _, r := range strings.Split(runs, ",") {
		if c.Stdout != nil {
			fmt.Fprintf(c.Stdout, "General run %s: $repetition=0\n", r)
		}
		body := fmt.Sprintf("version 3\nrun General-%s-x\nattr configname General\nattr runnumber %s\n\nscalar net x %s\n", r, r, r)
		os.WriteFile(filepath.Join(dir, "General-#"+r+".sca"), []byte(body), 0o644)
	}
	return procexec.Result{ExitCode: 0}
}

// TestRunsBelowAMillisecondRecordADuration: a succeeded run that took
// less than a millisecond, alone or in a batch, says it took one (rounded
// up), not zero: the controller sizes batches from the durations of
// succeeded runs and reads a sum of zero as "nothing known" (one run per
// task), so a campaign of such runs was never batched.
func TestRunsBelowAMillisecondRecordADuration(t *testing.T) {
	db := setup(t, "[General]\n")
	h := handler(t, db, t.TempDir())
	h.Exec = instantExec{}
	ctx := context.Background()
	if err := h.ProcessTask(ctx, task(t, db, 1)); err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(ctx, batchTask(t, db, items(2, 3, 4))); err != nil {
		t.Fatal(err)
	}
	for _, run := range []int{1, 2, 3, 4} {
		r := record(t, db, run)
		if r.State != schema.RunSucceeded || r.DurationMS < 1 {
			t.Errorf("run %d: %s in %d ms, want Succeeded in at least 1 ms", run, r.State, r.DurationMS)
		}
	}
}
