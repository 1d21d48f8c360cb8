package campaign

import (
	"context"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/runlist"
)

// listConfigRuns plays the builder's run list: the program of sim lists runs
// 0..n-1 of its config.
func (e *env) listConfigRuns(t *testing.T, key string, sim api.SimulationSpec, n int) {
	t.Helper()
	runs := make([]oppcli.RunInfo, n)
	for i := range runs {
		runs[i] = oppcli.RunInfo{Number: i}
	}
	if err := runlist.Save(context.Background(), e.st.DB, runlist.ID(key, runlist.QueryOf(sim)), key, runs); err != nil {
		t.Fatal(err)
	}
}

// TestRunNumbersBeyondTheConfigAreRefused: a spec.simulation.runs of run
// numbers that goes beyond the runs the program lists (0..99 on a config
// of 50) is refused once the program has listed them, terminally and
// naming the field and the runs that do not exist, as OMNeT++ refuses -r
// 0..99 itself. No record is created for a run that does not exist, none is
// dispatched, and none is reported pending.
func TestRunNumbersBeyondTheConfigAreRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := e.st.Create(ctx, newCampaign("beyond", "0..99"))
	if err != nil {
		t.Fatal(err)
	}
	uid := c.Metadata.UID
	e.reconcile(t, "beyond")
	c, _ = e.st.Get(ctx, "beyond")
	if n := e.counts(t, "beyond", uid); n.Total != 0 {
		t.Fatalf("%d run records before the program listed the runs", n.Total)
	}
	e.listConfigRuns(t, c.Status.Build.Key, c.Spec.Simulation, 50)
	e.finishBuild(t, c.Status.Build.Key)
	for range 3 {
		e.reconcile(t, "beyond")
	}
	c, _ = e.st.Get(ctx, "beyond")
	stalled := cond(c.Status, api.ConditionStalled)
	if c.Status.Phase != api.PhaseFailed || stalled.Reason != ReasonInvalidSpec ||
		!strings.Contains(stalled.Message, `spec.simulation.runs "0..99": runs 50..99 do not exist: config PureAloha has 50 runs (0..49)`) {
		t.Fatalf("status %+v, want Failed, InvalidSpec naming spec.simulation.runs and runs 50..99", c.Status)
	}
	if n := e.counts(t, "beyond", uid); n.Total != 0 {
		t.Errorf("%d run records of a refused campaign", n.Total)
	}
	if got := len(e.tasks(t, "beyond", uid)); got != 0 {
		t.Errorf("%d run tasks of a refused campaign", got)
	}
	if r := c.Status.Runs; r.Pending != 0 || r.Queued != 0 {
		t.Errorf("runs %+v of a refused campaign, want none pending", r)
	}

	// Within the config, the same campaign's runs are the ones it names.
	c.Spec.Simulation.Runs = "40..49"
	if _, err := e.st.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.reconcile(t, "beyond")
	}
	c, _ = e.st.Get(ctx, "beyond")
	if n := e.counts(t, "beyond", uid); n.Total != 10 || c.Status.Phase != api.PhaseRunning || len(e.tasks(t, "beyond", uid)) != 10 {
		t.Fatalf("runs 40..49: records %+v, status %+v, %d tasks", n, c.Status, len(e.tasks(t, "beyond", uid)))
	}
	for run := 40; run < 50; run++ {
		if _, err := e.st.GetRun(ctx, "beyond", uid, run); err != nil {
			t.Errorf("run %d: %v", run, err)
		}
	}
	_ = schema.RunPending
}
