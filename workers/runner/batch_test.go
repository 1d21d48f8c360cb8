package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// batchTask makes the records of runs (Pending, with attempts) and a task
// carrying them all.
func batchTask(t *testing.T, db *mongo.Database, items []schema.RunItem) *asynq.Task {
	t.Helper()
	for _, it := range items {
		rec := schema.RunRecord{ID: schema.RunID("c", "u1", it.Run), Campaign: "c", UID: "u1", Run: it.Run, State: schema.RunPending, Attempts: it.Attempt}
		if _, err := db.Collection(schema.CollRuns).InsertOne(context.Background(), rec); err != nil && !mongo.IsDuplicateKeyError(err) {
			t.Fatal(err)
		}
	}
	rt := schema.RunTask{Campaign: "c", UID: "u1", ArtifactKey: key,
		Simulation: api.SimulationSpec{Program: []string{"./fakesim"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: "."},
		Results:    []string{"results/*.sca", "results/*.vec"}, Timeout: api.Duration{Duration: time.Minute}}.Batch(items)
	payload, _ := json.Marshal(rt)
	return asynq.NewTask(schema.TypeRun, payload)
}

func items(runs ...int) []schema.RunItem {
	out := make([]schema.RunItem, len(runs))
	for i, r := range runs {
		out[i] = schema.RunItem{Run: r}
	}
	return out
}

// storedResults returns, per run, the names of its stored result files,
// checking that each file's content is the run's own (its header names it).
func storedResults(t *testing.T, db *mongo.Database) map[int][]string {
	t.Helper()
	ctx := context.Background()
	cur, err := db.Collection(schema.BucketResults+".files").Find(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		ID       bson.ObjectID `bson:"_id"`
		Filename string        `bson:"filename"`
		Metadata struct {
			Run  int    `bson:"run"`
			Name string `bson:"name"`
		} `bson:"metadata"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	b := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	out := map[int][]string{}
	for _, d := range docs {
		var buf bytes.Buffer
		if _, err := b.DownloadToStream(ctx, d.ID, &buf); err != nil {
			t.Fatalf("download %s: %v", d.Filename, err)
		}
		if want := fmt.Sprintf("attr runnumber %d\n", d.Metadata.Run); !strings.Contains(buf.String(), want) {
			t.Errorf("%s stored for run %d holds another run's results:\n%s", d.Filename, d.Metadata.Run, buf.String())
		}
		if d.Filename != schema.ResultName("c", "u1", d.Metadata.Run, d.Metadata.Name) {
			t.Errorf("file %s is named for another run than its metadata's %d", d.Filename, d.Metadata.Run)
		}
		out[d.Metadata.Run] = append(out[d.Metadata.Run], d.Metadata.Name)
	}
	return out
}

func procLines(t *testing.T, log string) []string {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

// A batch's process SIGKILLed in its fourth run, after three finished
// (and after the fourth wrote one of its files): the three finished runs
// are stored once and never run again, the killed run is a failed attempt
// of its own (the controller's retries redo it), and the two runs the
// kill kept from starting run in a new process without losing an attempt.
func TestBatchKilledHalfWayRedoesOnlyUnfinishedRuns(t *testing.T) {
	db := setup(t, "[General]\n**.n = ${n=0..5}\n")
	procLog := filepath.Join(t.TempDir(), "processes")
	t.Setenv("FAKESIM_LOG", procLog)
	t.Setenv("FAKESIM_KILL_RUN", "3")
	t.Setenv("FAKESIM_FLAKY_DIR", t.TempDir())
	h := handler(t, db, t.TempDir())
	var announced []string
	h.Changed = func(_ context.Context, msg string) { announced = append(announced, msg) }
	if err := h.ProcessTask(context.Background(), batchTask(t, db, items(0, 1, 2, 3, 4, 5))); err != nil {
		t.Fatal(err)
	}
	if got := procLines(t, procLog); strings.Join(got, " ") != "0,1,2,3,4,5 4,5" {
		t.Fatalf("processes ran -r %v, want the batch and then only the runs the kill kept from starting (4,5)", got)
	}
	for _, run := range []int{0, 1, 2, 4, 5} {
		r := record(t, db, run)
		if r.State != schema.RunSucceeded || r.Attempts != 1 || len(r.Files) != 2 {
			t.Errorf("run %d: %s attempt %d with %d files, want Succeeded attempt 1 with its .sca and .vec", run, r.State, r.Attempts, len(r.Files))
		}
	}
	killed := record(t, db, 3)
	if killed.State != schema.RunFailed || killed.Attempts != 1 || !strings.Contains(killed.Message, "killed") {
		t.Fatalf("killed run: %s attempt %d %q, want a failed attempt saying it was killed", killed.State, killed.Attempts, killed.Message)
	}
	if len(announced) != 1 || announced[0] != schema.Announcement("c", 6) {
		t.Errorf("announcements %q, want one for the batch's 6 runs", announced)
	}

	// The controller sends the killed run back (attempt 1 recorded).
	if _, err := db.Collection(schema.CollRuns).UpdateOne(context.Background(), bson.M{"_id": schema.RunID("c", "u1", 3)},
		bson.M{"$set": bson.M{"state": schema.RunPending}}); err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(context.Background(), batchTask(t, db, []schema.RunItem{{Run: 3, Attempt: 1}})); err != nil {
		t.Fatal(err)
	}
	if got := procLines(t, procLog); strings.Join(got, " ") != "0,1,2,3,4,5 4,5 3" {
		t.Fatalf("processes ran -r %v, want run 3 alone last", got)
	}
	if r := record(t, db, 3); r.State != schema.RunSucceeded || r.Attempts != 2 || len(r.Files) != 2 {
		t.Fatalf("run 3 redone: %s attempt %d with %d files", r.State, r.Attempts, len(r.Files))
	}
	stored := storedResults(t, db)
	for run := 0; run <= 5; run++ {
		if len(stored[run]) != 2 {
			t.Errorf("run %d has %d stored files %v, want its .sca and .vec once", run, len(stored[run]), stored[run])
		}
	}
	n, _ := db.Collection(schema.CollCompletions).CountDocuments(context.Background(), bson.M{})
	if n != 6 {
		t.Errorf("%d completions, want one per run", n)
	}
}

// TestBatchRunsSharingAFileNameRunOneProcessEach: every run of the batch
// writes results/Same.sca (output-scalar-file = ${resultdir}/Same.sca),
// each replacing the one before, besides a .vec of its own. No run may be
// credited with what it did not write, nor succeed without its scalars:
// the runs go again one process each (each in a tree of its own), and
// each stores its own Same.sca.
func TestBatchRunsSharingAFileNameRunOneProcessEach(t *testing.T) {
	db := setup(t, "[General]\n")
	procLog := filepath.Join(t.TempDir(), "processes")
	t.Setenv("SIM_LOG", procLog)
	setupScript(t, db, `runs=""
while [ $# -gt 0 ]; do case "$1" in -r) runs=$2; shift;; esac; shift; done
echo "$runs" >> "$SIM_LOG"
for r in $(echo "$runs" | tr ',' ' '); do
  echo "General run $r: \$repetition=$r"
  head=$(printf 'version 3\nrun General-%s-x\nattr configname General\nattr runnumber %s\nconfig output-scalar-file results/Same.sca\n' $r $r)
  rm -f "$RESULTS/Same.sca"
  printf '%s\n\nscalar Net v %s\n' "$head" $r > "$RESULTS/Same.sca"
  printf '%s\n\nvector 0 Net v\n' "$head" > "$RESULTS/General-#$r.vec"
done`)
	its := items(0, 1, 2)
	for _, it := range its {
		rec := schema.RunRecord{ID: schema.RunID("c", "u1", it.Run), Campaign: "c", UID: "u1", Run: it.Run, State: schema.RunPending}
		if _, err := db.Collection(schema.CollRuns).InsertOne(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	rt := schema.RunTask{Campaign: "c", UID: "u1", ArtifactKey: scriptKey,
		Simulation: api.SimulationSpec{Program: []string{"./sim.sh"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: "."},
		Results:    []string{"results/*.sca", "results/*.vec"}, Timeout: api.Duration{Duration: time.Minute}}.Batch(its)
	payload, _ := json.Marshal(rt)
	h := handler(t, db, t.TempDir())
	if err := h.ProcessTask(context.Background(), asynq.NewTask(schema.TypeRun, payload)); err != nil {
		t.Fatal(err)
	}
	for run := range 3 {
		if r := record(t, db, run); r.State != schema.RunSucceeded || len(r.Files) != 2 {
			t.Errorf("run %d: %s with %d files %q, want Succeeded with its Same.sca and .vec", run, r.State, len(r.Files), r.Message)
		}
	}
	stored := storedResults(t, db) // each file's content is its run's
	for run := range 3 {
		if len(stored[run]) != 2 {
			t.Errorf("run %d stored %v, want Same.sca and its .vec", run, stored[run])
		}
	}
	if got := procLines(t, procLog); strings.Join(got, " ") != "0,1,2 0 1 2" {
		t.Errorf("processes ran -r %v, want the batch, then one process per run", got)
	}
}
