package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// TestRealRunNumbersBeyondTheConfigAreRefusedEverywhere: a filter of run
// numbers that goes beyond the config (10..13,20 on the 12 runs of
// Constrained) is refused by OMNeT++ itself (-r 10..13,20 -q runnumbers),
// and likewise, naming every run that does not exist, by `simswarm run`,
// by `simswarm runall` and by the cluster (terminally: Failed,
// InvalidSpec, no run record, none pending, none dispatched); within the
// config, the cluster runs exactly the runs named.
func TestRealRunNumbersBeyondTheConfigAreRefusedEverywhere(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := t.TempDir()
	model, _ := constrainedAloha(t, omn, dir)
	const filter = "10..13,20"
	const refusal = `runs 12..13,20 do not exist: config Constrained has 12 runs (0..11)`

	if _, err := oppcli.QueryRunNumbers(context.Background(), []string{"./aloha"}, model, "constraint.ini", "Constrained", filter, omn.Env()); err == nil ||
		!strings.Contains(err.Error(), "out of range") {
		t.Fatalf("opp_run -r %s -q runnumbers: %v, want OMNeT++'s own refusal", filter, err)
	}

	constrainedManifest(t, dir, "beyond", filter)
	out, err := cli(t, "run", "-f", dir+"/beyond.yaml", "-j", "2", "--results", dir+"/local/beyond", "--workdir", dir+"/work/beyond")
	if err == nil || !strings.Contains(err.Error(), `spec.simulation.runs "`+filter+`": `+refusal) {
		t.Fatalf("simswarm run: %v\n%s\nwant the refusal naming spec.simulation.runs and every missing run", err, out)
	}
	out, err = cli(t, "runall", "-C", model, "--results", dir+"/runall", "--", "./aloha", "-f", "constraint.ini", "-c", "Constrained", "-r", filter)
	if err == nil || !strings.Contains(err.Error(), `-r "`+filter+`": `+refusal) {
		t.Fatalf("simswarm runall: %v\n%s\nwant the refusal naming -r and every missing run", err, out)
	}

	c := startLocalCluster(t, 1)
	st := c.store(t)
	ctx := context.Background()
	mustCLI(t, "apply", "-f", dir+"/beyond.yaml")
	var cp *api.Campaign
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		cp, err = st.Get(ctx, "beyond")
		if err == nil && cp.Status.Phase == api.PhaseFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign not refused: %+v %v", cp, err)
		}
	}
	var stalled api.Condition
	for _, cd := range cp.Status.Conditions {
		if cd.Type == api.ConditionStalled {
			stalled = cd
		}
	}
	if stalled.Reason != "InvalidSpec" || !strings.Contains(stalled.Message, `spec.simulation.runs "`+filter+`": `+refusal) {
		t.Fatalf("Stalled %+v, want InvalidSpec with the same refusal as simswarm run", stalled)
	}
	if n, err := st.RunCounts(ctx, "beyond", cp.Metadata.UID); err != nil || n.Total != 0 {
		t.Fatalf("run records of the refused campaign: %+v %v", n, err)
	}
	if r := cp.Status.Runs; r.Pending != 0 || r.Queued != 0 || r.Running != 0 || r.Succeeded != 0 {
		t.Fatalf("status runs %+v of the refused campaign", r)
	}
	if _, err := cli(t, "wait", "beyond", "--timeout", "10s"); err == nil || !strings.Contains(err.Error(), refusal) {
		t.Fatalf("wait: %v, want the refusal", err)
	}

	// Within the config: exactly the runs named, the same as `simswarm run`.
	constrainedManifest(t, dir, "within", "10,11")
	runLocally(t, dir, "within")
	applyAndWait(t, dir+"/within.yaml", "within", "3m")
	cp, _ = st.Get(ctx, "within")
	if n, err := st.RunCounts(ctx, "within", cp.Metadata.UID); err != nil || n.Total != 2 || n.Succeeded != 2 {
		t.Fatalf("runs 10,11: records %+v %v", n, err)
	}
	for _, run := range []int{10, 11} {
		if r, err := st.GetRun(ctx, "within", cp.Metadata.UID, run); err != nil || r.State != "Succeeded" {
			t.Fatalf("run %d: %+v %v", run, r, err)
		}
	}
	pullSameAsLocal(t, dir, "within")
}
