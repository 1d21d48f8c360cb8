package campaign

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/runlist"
)

// listRuns plays the builder: the run list of c's build, with identities
// ident(run) ("" for none).
func (e *env) listRuns(t *testing.T, c *api.Campaign, n int, ident func(int) string) {
	t.Helper()
	runs := make([]oppcli.RunInfo, n)
	ids := make([]string, n)
	for i := range runs {
		runs[i] = oppcli.RunInfo{Number: i, Vars: fmt.Sprintf("$x=%d, $repetition=0", i)}
		ids[i] = ident(i)
	}
	key := c.Status.Build.Key
	if err := runlist.SaveIdentified(context.Background(), e.st.DB, runlist.ID(key, runlist.QueryOf(c.Spec.Simulation)), key, runs, ids, ""); err != nil {
		t.Fatal(err)
	}
}

func ident(prefix string) func(int) string {
	return func(i int) string { return fmt.Sprintf("%s%063d", prefix, i) }
}

// runAll plays the runners for every task of c in the queue: each run
// stores one file and succeeds; it returns the runs it ran.
func (e *env) runAll(t *testing.T, c *api.Campaign) []int {
	t.Helper()
	ctx := context.Background()
	name, uid := c.Metadata.Name, c.Metadata.UID
	var ran []int
	for run := range e.tasks(t, name, uid) {
		data := []byte(fmt.Sprintf("scalar of %s run %d\n", name, run))
		up, err := gridfs.Upload(ctx, e.st.DB, schema.BucketResults, schema.ResultName(name, uid, run, "results/r.sca"), bytes.NewReader(data),
			bson.M{"campaign": name, "uid": uid, "run": run, "attempt": 1})
		if err != nil {
			t.Fatal(err)
		}
		comp := schema.Completion{ID: store.RunID(name, uid, run), Campaign: name, UID: uid, Attempt: 1, Worker: "w",
			Files: []schema.ResultFile{{Name: "results/r.sca", Size: up.Size, SHA256: up.SHA256, FileID: up.ID}}, DurationMS: 5}
		if _, err := e.st.DB.Collection(schema.CollCompletions).InsertOne(ctx, comp); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.DB.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": comp.ID}, bson.M{"$set": comp.RecordFields()}); err != nil {
			t.Fatal(err)
		}
		ran = append(ran, run)
	}
	if err := e.rdb.FlushAll(ctx).Err(); err != nil { // the workers consumed the tasks
		t.Fatal(err)
	}
	slices.Sort(ran)
	return ran
}

// start creates c, plays its build (with the run list of n runs) and
// reconciles it until its runs exist.
func (e *env) start(t *testing.T, c *api.Campaign, n int, ids func(int) string) *api.Campaign {
	t.Helper()
	ctx := context.Background()
	if _, err := e.st.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	name := c.Metadata.Name
	e.reconcile(t, name)
	c, _ = e.st.Get(ctx, name)
	if b, _ := e.st.GetBuild(ctx, c.Status.Build.Key); b.State != schema.BuildSucceeded {
		e.finishBuild(t, c.Status.Build.Key)
	}
	e.listRuns(t, c, n, ids)
	e.reconcile(t, name)
	e.reconcile(t, name)
	c, _ = e.st.Get(ctx, name)
	return c
}

// finishAll runs c's tasks until it is done and returns the runs run.
func (e *env) finishAll(t *testing.T, c *api.Campaign) []int {
	t.Helper()
	var all []int
	for range 20 {
		e.reconcile(t, c.Metadata.Name)
		got, _ := e.st.Get(context.Background(), c.Metadata.Name)
		if got.Status.Phase == api.PhaseSucceeded {
			slices.Sort(all)
			return all
		}
		all = append(all, e.runAll(t, c)...)
	}
	t.Fatalf("%s not done", c.Metadata.Name)
	return nil
}

// files are the contents of c's result files, by run.
func (e *env) files(t *testing.T, c *api.Campaign) map[int]string {
	t.Helper()
	ctx := context.Background()
	recs, err := e.st.Runs(ctx, store.RunQuery{Campaign: c.Metadata.Name, UID: c.Metadata.UID, After: -1})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, r := range recs {
		for _, f := range r.Files {
			rd, err := gridfs.OpenByID(ctx, e.st.DB, schema.BucketResults, f.FileID)
			if err != nil {
				t.Fatalf("run %d: %s: %v", r.Run, f.Name, err)
			}
			b, _ := io.ReadAll(rd)
			rd.Close()
			out[r.Run] += f.Name + ": " + string(b)
		}
	}
	return out
}

// TestSecondIdenticalCampaignRunsNothing: a campaign identical to one
// that succeeded dispatches no task, counts every run succeeded and
// reused, and its files are the first's; it keeps them when the first is
// deleted with its results. spec.reuse: false runs everything again, and
// so does a campaign whose runs have other identities (another build, an
// ini changed). A campaign with more runs (repeat grown) runs only the
// new ones.
func TestSecondIdenticalCampaignRunsNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.start(t, newCampaign("first", ""), 6, ident("a"))
	if ran := e.finishAll(t, first); len(ran) != 6 {
		t.Fatalf("the first campaign ran %v", ran)
	}
	want := e.files(t, first)

	second := e.start(t, newCampaign("second", ""), 6, ident("a"))
	if n := len(e.tasks(t, "second", second.Metadata.UID)); n != 0 {
		t.Fatalf("the second campaign dispatched %d tasks", n)
	}
	if ran := e.finishAll(t, second); len(ran) != 0 {
		t.Fatalf("the second campaign ran %v", ran)
	}
	second, _ = e.st.Get(ctx, "second")
	if r := second.Status.Runs; r.Succeeded != 6 || r.Reused != 6 || r.Total != 6 {
		t.Fatalf("second's status: %+v", r)
	}
	got := e.files(t, second)
	for run, content := range want {
		if got[run] != content {
			t.Fatalf("run %d: second has %q, first %q", run, got[run], content)
		}
	}
	recs, _ := e.st.Runs(ctx, store.RunQuery{Campaign: "second", UID: second.Metadata.UID, After: -1})
	for _, r := range recs {
		if r.ReusedFrom == nil || r.ReusedFrom.Campaign != "first" || r.ReusedFrom.Run != r.Run {
			t.Fatalf("run %d reused from %+v", r.Run, r.ReusedFrom)
		}
	}

	// Opting out runs everything.
	optOut := newCampaign("optout", "")
	no := false
	optOut.Spec.Reuse = &no
	optOut = e.start(t, optOut, 6, ident("a"))
	if ran := e.finishAll(t, optOut); len(ran) != 6 {
		t.Fatalf("spec.reuse false ran %v", ran)
	}

	// Another build (another source archive) with other identities, as a
	// changed ini or build gives: everything runs.
	changed := newCampaign("changed", "")
	changed.Spec.Source.Archive = strings.Repeat("beef", 16)
	changed = e.start(t, changed, 6, ident("b"))
	if ran := e.finishAll(t, changed); len(ran) != 6 {
		t.Fatalf("a changed model ran %v", ran)
	}

	// Repeat grown: 12 runs, the even ones (the old repetitions) keep
	// their identities under new run numbers; only the odd ones run.
	grown := newCampaign("grown", "")
	grown.Spec.Source.Archive = strings.Repeat("cafe", 16)
	grown = e.start(t, grown, 12, func(i int) string {
		if i%2 == 0 {
			return ident("a")(i / 2)
		}
		return ident("c")(i)
	})
	if ran := e.finishAll(t, grown); !slices.Equal(ran, []int{1, 3, 5, 7, 9, 11}) {
		t.Fatalf("the grown campaign ran %v", ran)
	}
	gotGrown := e.files(t, grown)
	for i := 0; i < 12; i += 2 {
		if gotGrown[i] != want[i/2] {
			t.Fatalf("grown run %d has %q, the first's run %d %q", i, gotGrown[i], i/2, want[i/2])
		}
	}

	// Delete the first campaign with its results: the second keeps its files.
	if _, err := e.st.MarkDeleted(ctx, "first", true); err != nil {
		t.Fatal(err)
	}
	e.reconcileUntilGone(t, e.r, "first", time.Minute)
	if n, _ := e.st.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{"metadata.uid": first.Metadata.UID}); n != 0 {
		t.Fatalf("the purge left %d files of the first campaign", n)
	}
	if got := e.files(t, second); len(got) != 6 || got[2] != want[2] {
		t.Fatalf("after deleting the first: %v", got)
	}
}
