package builder

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/runlist"
)

// A program without identities has its list stored as it writes it; a
// list the program cuts short is never recorded as the list (its record
// says the program's failure, and nothing of it stays in the bucket), so
// no partial list is taken for the whole: the runs counted are the runs
// of a list the program finished.
func TestARunListCutShortIsNeverTakenForTheWhole(t *testing.T) {
	d := db(t)
	ctx := context.Background()
	list := func(key, script string) *runlist.Record {
		t.Helper()
		repo := t.TempDir()
		git(t, repo, "init", "-q")
		os.WriteFile(filepath.Join(repo, "sim"), []byte(script), 0o755)
		os.WriteFile(filepath.Join(repo, "omnetpp.ini"), []byte("[General]\n"), 0o644)
		git(t, repo, "add", ".")
		git(t, repo, "commit", "-qm", "x")
		h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b"}
		sim := api.SimulationSpec{Program: []string{"./sim"}}
		p, _ := json.Marshal(schema.BuildTask{Campaign: "c", UID: "u", Key: key,
			Source: api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}},
			Build:  api.BuildSpec{Prebuilt: true}, Simulation: &sim})
		if err := h.ProcessTask(ctx, asynq.NewTask(schema.TypeBuild, p)); err != nil {
			t.Fatal(err)
		}
		rec, err := runlist.Get(ctx, d, runlist.ID(key, runlist.QueryOf(sim)))
		if err != nil || rec == nil {
			t.Fatalf("%s: no run list record: %v", key, err)
		}
		return rec
	}
	runs := func(n, exit string) string {
		return "#!/bin/sh\ncase \" $* \" in *\" -q runs \"*) awk 'BEGIN { for (i = 0; i < " + n +
			"; i++) print \"Run \" i \": $x=\" i }'; exit " + exit + ";; esac\nexit 1\n"
	}
	files := func() int64 {
		k, err := d.Collection(runlist.Bucket+".files").CountDocuments(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	// 300,000 runs listed, then the program fails.
	if rec := list("died", runs("300000", "3")); rec.State != runlist.StateFailed || rec.Count != 0 ||
		!strings.Contains(rec.Error, "exit status 3") {
		t.Fatalf("a list the program cut short: %+v", rec)
	}
	// The banner says more runs than the program lists.
	if rec := list("short", "#!/bin/sh\necho 'Number of runs: 5'\necho 'Run 0: $x=0'\necho 'Run 1: $x=1'\n"); rec.State != runlist.StateFailed ||
		!strings.Contains(rec.Error, "says 5 runs but lists 2") {
		t.Fatalf("a list shorter than its banner: %+v", rec)
	}
	// Out of order, after 1,000 good runs.
	if rec := list("order", "#!/bin/sh\nawk 'BEGIN { for (i = 0; i < 1000; i++) print \"Run \" i \": \" }'\necho 'Run 7: '\n"); rec.State != runlist.StateFailed ||
		!strings.Contains(rec.Error, "run 7 listed after run 999") {
		t.Fatalf("a list out of order: %+v", rec)
	}
	if k := files(); k != 0 {
		t.Fatalf("%d run list files stored for lists that were never whole", k)
	}
	// The whole list.
	rec := list("whole", runs("300000", "0"))
	if rec.State != runlist.StateSucceeded || rec.Count != 300000 || rec.Identified {
		t.Fatalf("the whole list: %+v", rec)
	}
	got, err := runlist.Runs(ctx, d, rec)
	if err != nil || len(got) != 300000 || got[299999].Vars != "$x=299999" {
		t.Fatalf("read back %d runs: %v", len(got), err)
	}
}
