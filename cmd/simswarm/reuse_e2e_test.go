package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// ranAndReused counts campaign name's runs that a runner ran and those
// reused from stored runs (their records say where from, and no runner's
// name: no process ran for them).
func ranAndReused(t *testing.T, st *store.Store, name string) (ran, reused int) {
	t.Helper()
	ctx := context.Background()
	c, err := st.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.Runs(ctx, store.RunQuery{Campaign: name, UID: c.Metadata.UID, After: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.State != schema.RunSucceeded {
			t.Fatalf("%s run %d is %s", name, r.Run, r.State)
		}
		if r.ReusedFrom != nil {
			if r.Worker != store.ReuseWorker || r.Attempts != 0 {
				t.Fatalf("%s run %d reused from %+v, yet worker %q, attempts %d", name, r.Run, r.ReusedFrom, r.Worker, r.Attempts)
			}
			reused++
		} else {
			ran++
		}
	}
	if c.Status.Runs.Reused != int64(reused) {
		t.Fatalf("%s: status says %d reused, the records %d", name, c.Status.Runs.Reused, reused)
	}
	return ran, reused
}

// sameTree fails unless directories a and b hold the same files, byte for
// byte.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	ta, tb := omnetpp.Tree(t, a), omnetpp.Tree(t, b)
	if strings.Join(ta, "\n") != strings.Join(tb, "\n") || len(ta) == 0 {
		t.Fatalf("%s holds %v, %s %v", a, ta, b, tb)
	}
	for _, f := range ta {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if string(x) != string(y) {
			t.Fatalf("%s differs between %s and %s", f, a, b)
		}
	}
}

// TestRealReuseByContent, on the real aloha sample through a controller,
// a builder and runner processes: the second of two identical campaigns
// runs nothing and pulls the first's files, byte for byte; growing repeat
// from 2 to 4 runs only the 12 new repetitions (with seed-set =
// ${repetition}; without it, only the runs whose numbers stay are the
// same), and the result table has all 24 runs; a changed ini value runs everything; spec.reuse: false
// runs everything; deleting the first campaign with its results leaves
// the second's files pullable.
func TestRealReuseByContent(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	cl := startLocalCluster(t, 2)
	st := cl.store(t)
	dir := t.TempDir()
	model, _ := constrainedAloha(t, omn, dir)
	// seed-set defaults to ${runnumber}, and run numbers move when repeat
	// grows: only with the seeds following the repetition are the old
	// repetitions the same runs under repeat 4.
	ini := filepath.Join(model, "constraint.ini")
	seeded := strings.Replace(constraintIni, "repeat = 2", "repeat = 2\nseed-set = ${repetition}", 1)
	writeFileT(t, ini, seeded)
	pull := func(name string) string {
		t.Helper()
		p := filepath.Join(dir, "pulled", name)
		mustCLI(t, "results", "pull", name, "-o", p)
		return p
	}

	applyAndWait(t, constrainedManifest(t, dir, "first", ""), "first", "180s")
	if ran, reused := ranAndReused(t, st, "first"); ran != 12 || reused != 0 {
		t.Fatalf("first: %d ran, %d reused", ran, reused)
	}
	firstFiles := pull("first")

	applyAndWait(t, constrainedManifest(t, dir, "second", ""), "second", "180s")
	if ran, reused := ranAndReused(t, st, "second"); ran != 0 || reused != 12 {
		t.Fatalf("second: %d ran, %d reused", ran, reused)
	}
	ctx := context.Background()
	second, _ := st.Get(ctx, "second")
	if n, _ := st.DB.Collection(schema.CollCompletions).CountDocuments(ctx, bson.M{"uid": second.Metadata.UID, "worker": bson.M{"$ne": store.ReuseWorker}}); n != 0 {
		t.Fatalf("%d of second's runs were completed by a runner", n)
	}
	secondFiles := pull("second")
	sameTree(t, firstFiles, secondFiles)
	if d := mustCLI(t, "describe", "campaign", "second"); !strings.Contains(d, "reused 12") {
		t.Errorf("describe:\n%s", d)
	}

	// Repeat grown from 2 to 4: a new source archive, a new build; the
	// runs of repetitions 0 and 1 keep their identities.
	writeFileT(t, ini, strings.Replace(seeded, "repeat = 2", "repeat = 4", 1))
	applyAndWait(t, constrainedManifest(t, dir, "grown", ""), "grown", "180s")
	if ran, reused := ranAndReused(t, st, "grown"); ran != 12 || reused != 12 {
		t.Fatalf("grown: %d ran, %d reused", ran, reused)
	}
	var tab resulttable.Table
	if err := json.Unmarshal([]byte(mustCLI(t, "results", "table", "grown", "--scalar", "Aloha.server.channelUtilization:last", "-o", "json")), &tab); err != nil {
		t.Fatal(err)
	}
	if tab.Runs != 24 || len(tab.Rows) != 6 {
		t.Fatalf("the table of grown has %d runs in %d rows, want 24 in 6", tab.Runs, len(tab.Rows))
	}
	for _, r := range tab.Rows {
		if r.N != 4 {
			t.Fatalf("point %v has %d runs in the table", r.Vars, r.N)
		}
	}

	// Without seed-set, the seeds follow the run number: of repeat 4's
	// runs only the two whose numbers did not move are repeat 2's.
	writeFileT(t, ini, constraintIni)
	applyAndWait(t, constrainedManifest(t, dir, "unseeded2", ""), "unseeded2", "180s")
	writeFileT(t, ini, strings.Replace(constraintIni, "repeat = 2", "repeat = 4", 1))
	applyAndWait(t, constrainedManifest(t, dir, "unseeded4", ""), "unseeded4", "180s")
	if ran, reused := ranAndReused(t, st, "unseeded4"); ran != 22 || reused != 2 {
		t.Fatalf("unseeded4: %d ran, %d reused", ran, reused)
	}

	// A changed value: every run is another.
	writeFileT(t, ini, strings.Replace(seeded, "sim-time-limit = 20s", "sim-time-limit = 21s", 1))
	applyAndWait(t, constrainedManifest(t, dir, "changed", ""), "changed", "180s")
	if ran, reused := ranAndReused(t, st, "changed"); ran != 12 || reused != 0 {
		t.Fatalf("changed: %d ran, %d reused", ran, reused)
	}
	// The same again, opted out: everything runs.
	optout := constrainedManifest(t, dir, "optout", "")
	writeFileT(t, optout, string(must(os.ReadFile(optout)))+"  reuse: false\n")
	applyAndWait(t, optout, "optout", "180s")
	if ran, reused := ranAndReused(t, st, "optout"); ran != 12 || reused != 0 {
		t.Fatalf("optout: %d ran, %d reused", ran, reused)
	}

	// The first campaign goes with its results; the second's stay.
	mustCLI(t, "delete", "campaign", "first", "--purge")
	first := filepath.Join(dir, "pulled", "first")
	if files, _ := st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{"metadata.campaign": "first"}); files != 0 {
		t.Fatalf("%d files of the deleted first campaign remain", files)
	}
	again := filepath.Join(dir, "pulled", "second-again")
	mustCLI(t, "results", "pull", "second", "-o", again)
	sameTree(t, first, again)
}
