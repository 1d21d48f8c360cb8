package store

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// storeRunWithoutIndex stores run as a runner with no result index did:
// its files in GridFS, its completion, its Succeeded record without
// resultIndex. It returns the completion.
func storeRunWithoutIndex(t *testing.T, s *Store, campaign, uid string, run int, finished time.Time, files map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	bucket := s.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	var rfs []schema.ResultFile
	for name, data := range files {
		id, err := bucket.UploadFromStream(ctx, schema.ResultName(campaign, uid, run, name), bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rfs = append(rfs, schema.ResultFile{Name: name, Size: int64(len(data)), FileID: id})
	}
	id := schema.RunID(campaign, uid, run)
	if _, err := s.DB.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: id, Campaign: campaign, UID: uid,
		Attempt: 1 + run%2, Files: rfs, FinishedAt: finished}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.Collection(schema.CollRuns).InsertOne(ctx, bson.M{"_id": id, "campaign": campaign, "uid": uid, "run": run,
		"state": schema.RunSucceeded, "attempts": 1 + run%2}); err != nil {
		t.Fatal(err)
	}
}

// alohaSCA is the aloha sample's .sca with the iteration variable iaMean
// and the server's duration scalar of run.
func alohaSCA(t *testing.T, run int) []byte {
	t.Helper()
	b, err := os.ReadFile("../../workers/scafile/testdata/aloha.sca")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "itervar iaMean 1\n", "itervar iaMean "+strconv.Itoa(1+run%3)+"\n", 1)
	s = strings.Replace(s, "scalar Aloha.server duration 5400\n", "scalar Aloha.server duration "+strconv.Itoa(5000+run*run)+"\n", 1)
	if s == string(b) {
		t.Fatal("the aloha sample changed")
	}
	return []byte(s)
}

// A campaign whose runs were stored with no result index gets one, a pass
// of at most Limit runs at a time: then its table is the table of the
// pulled files; each run is indexed once (a pass after the last indexes
// nothing, a run already indexed is left alone); a malformed .sca is
// reported on its run, which stays Succeeded; a run without .sca gets an
// empty document as from its runner; runs stored within Grace are left to
// their runner.
func TestBackfillIndexesRunsStoredWithoutIndex(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	const runs = 11
	pulled := t.TempDir()
	for run := range runs {
		files := map[string][]byte{"results/General-" + strconv.Itoa(run) + ".sca": alohaSCA(t, run),
			"results/General-" + strconv.Itoa(run) + ".vec": []byte("version 3\n")}
		switch run {
		case 4:
			files = map[string][]byte{"results/General-4.sca": []byte("version 3\nrun x\n\x00\x01junk\n")}
		case 7:
			files = map[string][]byte{"out.txt": []byte("no scalars")}
		}
		for name, data := range files {
			p := filepath.Join(pulled, strconv.Itoa(run), name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		storeRunWithoutIndex(t, s, "aloha", "u", run, now.Add(-time.Hour), files)
	}
	// Run 2 is indexed already (by its runner): the backfill leaves it.
	pre := resultindex.New(resultindex.Run{Campaign: "aloha", UID: "u", Run: 2, Attempt: 1})
	pre.AddSCA("x.sca", bytes.NewReader(alohaSCA(t, 2)))
	if _, err := resultindex.Insert(ctx, s.DB, []*resultindex.Doc{pre}); err != nil {
		t.Fatal(err)
	}
	// A run just stored, whose runner is indexing it.
	storeRunWithoutIndex(t, s, "aloha", "u", runs, now.Add(-time.Second), map[string][]byte{"a.sca": alohaSCA(t, runs)})

	o := BackfillOptions{Limit: 4, Grace: time.Minute, Now: func() time.Time { return now }}
	total := 0
	for pass := 0; ; pass++ {
		got, err := s.BackfillResultIndex(ctx, "aloha", "u", o)
		if err != nil || got.Failed != 0 {
			t.Fatalf("pass %d: %+v, %v", pass, got, err)
		}
		if got.Indexed > o.Limit || got.Young != 1 {
			t.Fatalf("pass %d: %+v, want at most %d indexed and the young run left", pass, got, o.Limit)
		}
		total += got.Indexed
		if got.Remaining == 0 {
			break
		}
		if pass > 5 {
			t.Fatal("backfill does not end")
		}
	}
	if total != runs-1 {
		t.Fatalf("%d runs backfilled, want %d", total, runs-1)
	}
	if got, err := s.BackfillResultIndex(ctx, "aloha", "u", o); err != nil || got.Indexed != 0 || got.Remaining != 0 {
		t.Fatalf("a pass after the last: %+v, %v", got, err)
	}

	// The table from the index is the table of the pulled files.
	f, _ := resulttable.NewFilter(nil)
	want, err := resulttable.FromDir(pulled, f)
	if err != nil {
		t.Fatal(err)
	}
	b := resulttable.NewBuilder(f)
	count := map[int]int{}
	if err := s.ScanResultIndex(ctx, "u", f.Match, func(d *resultindex.Doc) error {
		count[d.Run]++
		if d.Error == "" {
			b.AddRun(d.Itervars, d.Values)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := b.Table()
	gj, _ := json.Marshal([]any{got.Vars, got.Rows})
	wj, _ := json.Marshal([]any{want.Vars, want.Rows})
	if string(gj) != string(wj) || len(want.Rows) == 0 {
		t.Errorf("the table from the backfilled index:\n%.500s\nfrom the files:\n%.500s", gj, wj)
	}
	if len(count) != runs {
		t.Errorf("%d runs in the index, want %d (the young one left to its runner)", len(count), runs)
	}
	for run, n := range count {
		if n != 1 {
			t.Errorf("run %d read %d times", run, n)
		}
	}
	// The records: each backfilled run's summary, the junk named on its
	// run, every run still Succeeded; run 2's record untouched.
	for run := range runs {
		var rec schema.RunRecord
		if err := s.DB.Collection(schema.CollRuns).FindOne(ctx, bson.M{"_id": schema.RunID("aloha", "u", run)}).Decode(&rec); err != nil {
			t.Fatal(err)
		}
		ri := rec.ResultIndex
		switch {
		case rec.State != schema.RunSucceeded:
			t.Errorf("run %d: %s", run, rec.State)
		case run == 2:
			if ri != nil {
				t.Errorf("run 2 was indexed already, its record got %+v", ri)
			}
		case ri == nil:
			t.Errorf("run %d: no resultIndex on the record", run)
		case run == 4:
			if !strings.Contains(ri.Error, "General-4.sca: ") || ri.Values != 0 {
				t.Errorf("run 4: %+v, want the junk named", ri)
			}
		case run == 7:
			if ri.Error != "" || ri.Values != 0 {
				t.Errorf("run 7 (no .sca): %+v", ri)
			}
		default:
			if ri.Error != "" || ri.Values < 20 {
				t.Errorf("run %d: %+v", run, ri)
			}
		}
	}
}
