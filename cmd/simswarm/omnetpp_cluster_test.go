package main

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// TestRealOMNeTppCampaignHasTheProgramsRuns applies campaigns on OMNeT++'s
// own aloha sample to a controller with a builder and two runners (real
// redis-server and a MongoDB-wire server): the builder asks the built
// program for the runs, so the campaign has exactly the runs that
// opp_run -q runs lists - with a constraint and an include that simswarm's
// ini reader refuses, and with a filter expression ('$numHosts>5') that only
// the program can evaluate - and the pulled results are those of running
// the sample locally, scalar for scalar.
func TestRealOMNeTppCampaignHasTheProgramsRuns(t *testing.T) {
	omn := omnetpp.Find(t)
	// The workers are started from this environment: the sample's program
	// finds OMNeT++'s libraries as it would after `. setenv`.
	omn.Setenv(t)
	cl := startLocalCluster(t, 2)

	dir := t.TempDir()
	model, want := constrainedAloha(t, omn, dir)

	ctx := context.Background()
	st := cl.store(t)

	applyAndWait(t, constrainedManifest(t, dir, "constrained", ""), "constrained", "240s")
	if got := runNumbers(t, st, "constrained"); !slices.Equal(got, numbersOf(want)) {
		t.Fatalf("campaign runs %v, opp_run -q runs lists %v", got, numbersOf(want))
	}
	pulled := filepath.Join(dir, "pulled")
	mustCLI(t, "results", "pull", "constrained", "-o", pulled)

	// The same runs on this machine, by the program itself (results outside
	// the model, whose archive must not change for the next campaign).
	localDir := filepath.Join(dir, "local")
	cmd := exec.Command("./aloha", "-u", "Cmdenv", "-f", "constraint.ini", "-c", "Constrained", "--result-dir="+localDir)
	cmd.Dir, cmd.Env = model, omn.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("local run: %v\n%s", err, tail(string(out), 2000))
	}
	local := readDir(t, localDir)
	got := readDir(t, pulled)
	var wantNames []string
	for n := range local {
		if strings.HasSuffix(n, ".sca") || strings.HasSuffix(n, ".vec") {
			wantNames = append(wantNames, n)
		}
	}
	slices.Sort(wantNames)
	if len(wantNames) != 24 || strings.Join(names(got), "\n") != strings.Join(wantNames, "\n") {
		t.Fatalf("pulled files\n%q\nlocal files\n%q", names(got), wantNames)
	}
	for _, n := range wantNames {
		if strings.HasSuffix(n, ".sca") && scalars(got[n]) != scalars(local[n]) {
			t.Errorf("%s: the scalars differ between the cluster and the local run", n)
		}
	}

	// A filter expression on the same build: the builder lists the runs
	// from the stored artifact with -r, as OMNeT++ evaluates it.
	wantF, err := oppcli.QueryRuns(context.Background(), []string{"./aloha"}, model, "constraint.ini", "Constrained", "$numHosts>5", omn.Env())
	if err != nil {
		t.Fatal(err)
	}
	applyAndWait(t, constrainedManifest(t, dir, "filtered", "$numHosts>5"), "filtered", "240s")
	if got := runNumbers(t, st, "filtered"); len(got) != 6 || !slices.Equal(got, numbersOf(wantF)) {
		t.Fatalf("filtered campaign runs %v, opp_run -r '$numHosts>5' -q runs lists %v", got, numbersOf(wantF))
	}
	if n, _ := st.DB.Collection(schema.CollBuilds).CountDocuments(ctx, bson.M{}); n != 1 {
		t.Fatalf("%d build records, want 1", n)
	}

	// A filter that selects a run the config does not have fails the
	// campaign with the program's own message.
	mustCLI(t, "apply", "-f", constrainedManifest(t, dir, "outofrange", "$numHosts>100"))
	out, err := cli(t, "wait", "outofrange", "--timeout", "120s")
	if err == nil || !strings.Contains(err.Error()+out, "the program lists no runs of config Constrained with -r $numHosts>100") {
		t.Fatalf("wait outofrange: %v\n%s", err, out)
	}
}

func numbersOf(runs []oppcli.RunInfo) []int {
	out := make([]int, len(runs))
	for i, r := range runs {
		out[i] = r.Number
	}
	return out
}

func runNumbers(t *testing.T, st *store.Store, campaign string) []int {
	t.Helper()
	cur, err := st.DB.Collection("runs").Find(context.Background(), bson.M{"campaign": campaign})
	if err != nil {
		t.Fatal(err)
	}
	var recs []schema.RunRecord
	if err := cur.All(context.Background(), &recs); err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, r := range recs {
		if r.State != schema.RunSucceeded {
			t.Errorf("%s run %d is %s: %s", campaign, r.Run, r.State, r.StderrTail)
		}
		out = append(out, r.Run)
	}
	slices.Sort(out)
	return out
}

// scalars are a result file's "scalar" lines: its run attributes hold the
// date, the process id and the host, which differ between any two runs.
func scalars(b []byte) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "scalar ") {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}
