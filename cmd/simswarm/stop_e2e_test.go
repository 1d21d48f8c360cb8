package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// TestStopRuleOnWorkers: the aloha example's PureAloha sweep with 8
// repetitions of 500 simulated seconds (120 runs), applied with a stop
// rule on a controller and real runner processes, succeeds with fewer
// runs than its sweep: the rest are Skipped (no failure, no result file);
// in the table of the stored results, every point that ran fewer than
// its 8 repetitions has an interval within the rule, and every point has
// at least the rule's 3; wait and describe say what was skipped.
func TestStopRuleOnWorkers(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	startWorkers(t, rs.URL(), mongoURI, 2)

	dir := t.TempDir()
	manifest := alohaManifest(t, dir, "stop", "PureAloha", "")
	ini := filepath.Join(dir, "model", "omnetpp.ini")
	data := string(must(os.ReadFile(ini)))
	for from, to := range map[string]string{"repeat = 2\n": "repeat = 8\n", "sim-time-limit = 1000000s\n": "sim-time-limit = 500s\n"} {
		if !strings.Contains(data, from) {
			t.Fatalf("the aloha ini has no %q", from)
		}
		data = strings.Replace(data, from, to, 1)
	}
	if err := os.WriteFile(ini, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	m := string(must(os.ReadFile(manifest))) + "  stop:\n    scalar: Aloha.channel.throughput\n    relativeHalfWidth: 0.05\n"
	if err := os.WriteFile(manifest, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "apply", "-f", manifest)
	out, err := cli(t, "wait", "stop", "--timeout", "300s", "-q")
	if err != nil {
		t.Fatalf("wait: %v\n%s", err, out)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	c, err := st.Get(ctx, "stop")
	if err != nil {
		t.Fatal(err)
	}
	n, err := st.RunCounts(ctx, "stop", c.Metadata.UID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Total != 120 || n.Failed != 0 || n.Skipped == 0 || n.Succeeded+n.Skipped != 120 {
		t.Fatalf("runs %+v: want 120, each succeeded or skipped, some skipped", n)
	}
	if !strings.Contains(out, "skipped by the stop rule") {
		t.Errorf("wait says %q", out)
	}
	if pts := c.Status.Points; pts == nil || pts.Total != 15 || pts.Converged == 0 {
		t.Fatalf("status.points %+v", pts)
	}
	if d := mustCLI(t, "describe", "campaign", "stop"); !strings.Contains(d, "skipped ") || !strings.Contains(d, "Points:") {
		t.Errorf("describe:\n%s", d)
	}
	// Skipped runs have no results.
	if files, _ := st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{}); files != 2*n.Succeeded {
		t.Errorf("%d result files stored, want 2 of each of %d runs that ran", files, n.Succeeded)
	}
	var tab resulttable.Table
	if err := json.Unmarshal([]byte(mustCLI(t, "results", "table", "stop", "--scalar", "Aloha.channel.throughput", "-o", "json")), &tab); err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 15 || tab.Runs != int(n.Succeeded) {
		t.Fatalf("table of %d rows over %d runs, want 15 over %d", len(tab.Rows), tab.Runs, n.Succeeded)
	}
	ran := 0
	for _, r := range tab.Rows {
		ran += r.N
		if r.N < 3 || r.N < 8 && !(float64(r.CI95) <= 0.05*math.Abs(float64(r.Mean))) {
			t.Errorf("point %v: %d runs, %.4g ± %.3g: stopped outside the rule", r.Vars, r.N, float64(r.Mean), float64(r.CI95))
		}
	}
	t.Logf("%d of 120 runs ran, %d skipped; %d of 15 points converged", ran, n.Skipped, c.Status.Points.Converged)
}
