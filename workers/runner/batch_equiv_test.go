package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/tarball"
)

// storeArtifact packs dir as the artifact of build key.
func storeArtifact(t *testing.T, db *mongo.Database, dir, key string) {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	sha, _, err := tarball.Pack(dir, []string{"."}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	b := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts))
	if _, err := b.UploadFromStream(ctx, schema.ArtifactName(key), &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(schema.CollBuilds).InsertOne(ctx, schema.BuildRecord{Key: key, State: schema.BuildSucceeded, SHA256: sha}); err != nil {
		t.Fatal(err)
	}
}

// runCampaign executes runs of sim as campaign object uid, in tasks of
// batch runs each, and returns the stored result files by run and name,
// without what differs between two executions of the same run (run id,
// date, process id).
func runCampaign(t *testing.T, db *mongo.Database, key, uid string, sim api.SimulationSpec, results []string, runs []int, batch int) map[int]map[string]string {
	t.Helper()
	ctx := context.Background()
	h := handler(t, db, t.TempDir())
	proto := schema.RunTask{Campaign: "eq", UID: uid, ArtifactKey: key, Simulation: sim, Results: results,
		Timeout: api.Duration{Duration: 5 * time.Minute}}
	for start := 0; start < len(runs); start += batch {
		var its []schema.RunItem
		for _, r := range runs[start:min(start+batch, len(runs))] {
			its = append(its, schema.RunItem{Run: r})
			rec := schema.RunRecord{ID: schema.RunID("eq", uid, r), Campaign: "eq", UID: uid, Run: r, State: schema.RunPending}
			if _, err := db.Collection(schema.CollRuns).InsertOne(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		payload, _ := json.Marshal(proto.Batch(its))
		if err := h.ProcessTask(ctx, asynq.NewTask(schema.TypeRun, payload)); err != nil {
			t.Fatal(err)
		}
	}
	out := map[int]map[string]string{}
	for _, r := range runs {
		var rec schema.RunRecord
		if err := db.Collection(schema.CollRuns).FindOne(ctx, bson.M{"_id": schema.RunID("eq", uid, r)}).Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if rec.State != schema.RunSucceeded {
			t.Fatalf("%s run %d: %s %q", uid, r, rec.State, rec.Message)
		}
		out[r] = map[string]string{}
		// The run's result index (package resultindex) is written for a
		// batch's runs as for single ones.
		var idx struct {
			Index *resultindex.Summary `bson:"resultIndex"`
		}
		if err := db.Collection(schema.CollRuns).FindOne(ctx, bson.M{"_id": schema.RunID("eq", uid, r)}).Decode(&idx); err != nil {
			t.Fatal(err)
		}
		if idx.Index == nil || idx.Index.Values == 0 || idx.Index.Error != "" {
			t.Errorf("%s run %d: result index %+v, want the values of its .sca", uid, r, idx.Index)
		} else {
			out[r]["(result index)"] = fmt.Sprintf("%+v", *idx.Index)
		}
		b := db.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
		for _, f := range rec.Files {
			var buf bytes.Buffer
			if _, err := b.DownloadToStream(ctx, f.FileID, &buf); err != nil {
				t.Fatal(err)
			}
			out[r][f.Name] = comparable(buf.String())
		}
	}
	return out
}

func comparable(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		// resultdir: the runner's private directory of the process, which
		// differs between any two executions.
		if strings.HasPrefix(l, "run ") || strings.HasPrefix(l, "attr datetime") || strings.HasPrefix(l, "attr processid ") ||
			strings.HasPrefix(l, "attr resultdir ") || strings.HasPrefix(l, "config result-dir ") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func sameResults(t *testing.T, single, batched map[int]map[string]string) {
	t.Helper()
	for run, files := range single {
		if len(files) == 0 {
			t.Errorf("run %d stored no files", run)
		}
		var names []string
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(batched[run]) != len(files) {
			t.Errorf("run %d: batched stored %d files, unbatched %d (%v)", run, len(batched[run]), len(files), names)
		}
		for _, n := range names {
			if b, ok := batched[run][n]; !ok || b != files[n] {
				t.Errorf("run %d: %s differs between the batched and the unbatched campaign (present: %v)%s", run, n, ok, firstDiff(files[n], b))
			}
		}
	}
}

func newDB(t *testing.T) *mongo.Database {
	t.Helper()
	m := testdb.StartMongoServer(t)
	client, db, err := schema.Connect(context.Background(), m.URI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return db
}

// The aloha C fixture: the same runs executed one per task and in batches
// of 3 (one process each) store the same files with the same results.
func TestBatchedAndUnbatchedStoreTheSameResultsAloha(t *testing.T) {
	db := newDB(t)
	src := t.TempDir()
	if out, err := exec.Command("cp", "-a", "../../examples/aloha/.", src).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := exec.Command("make", "-C", src).CombinedOutput(); err != nil {
		t.Fatalf("make aloha: %v: %s", err, out)
	}
	os.RemoveAll(filepath.Join(src, "results"))
	// PureAloha's sweep with a shorter simulated time, to keep the test short.
	ini, err := os.OpenFile(filepath.Join(src, "omnetpp.ini"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ini.WriteString("\n[Config Short]\nextends = PureAloha\nsim-time-limit = 20000s\n")
	ini.Close()
	const k = "a10a11bb22cc33dd44ee55ff66778899aabbccddeeff00112233445566778899"
	storeArtifact(t, db, src, k)
	sim := api.SimulationSpec{Program: []string{"./aloha"}, IniFile: "omnetpp.ini", Config: "Short", WorkingDir: "."}
	runs := []int{0, 1, 2, 3, 4, 5, 6, 7}
	results := []string{"results/*.sca", "results/*.vec"}
	single := runCampaign(t, db, k, "unbatched", sim, results, runs, 1)
	batched := runCampaign(t, db, k, "batched", sim, results, runs, 3)
	sameResults(t, single, batched)
}

// The same on the real OMNeT++ aloha sample (opp_run -s -r a,b,c).
func TestBatchedAndUnbatchedStoreTheSameResultsOMNeTpp(t *testing.T) {
	omn := omnetpp.Find(t)
	for _, kv := range omn.Env() {
		if k, v, ok := strings.Cut(kv, "="); ok && (k == "PATH" || k == "LD_LIBRARY_PATH") {
			t.Setenv(k, v)
		}
	}
	db := newDB(t)
	src := omn.Sample(t, "aloha")
	const k = "b10a11bb22cc33dd44ee55ff66778899aabbccddeeff00112233445566778899"
	storeArtifact(t, db, src, k)
	sim := api.SimulationSpec{Program: []string{"./aloha", "--sim-time-limit=5min"}, IniFile: "omnetpp.ini",
		Config: "PureAlohaExperiment", WorkingDir: "."}
	runs := []int{0, 1, 2, 3, 4, 5}
	results := []string{"results/*.sca", "results/*.vec"}
	single := runCampaign(t, db, k, "unbatched", sim, results, runs, 1)
	batched := runCampaign(t, db, k, "batched", sim, results, runs, 3)
	sameResults(t, single, batched)
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "\n  unbatched: " + x + "\n  batched:   " + y
		}
	}
	return ""
}
