package runner

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// TestStoredRunsAreIndexed: a run's .sca goes into the result index with
// its stored results, keyed by the run and carrying its iteration
// variables and scalars; a run whose .sca is junk still succeeds, with
// the fault named on its record and its index document.
func TestStoredRunsAreIndexed(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=ok,badsca}\n**.x = ${x=1,2}\n")
	ctx := context.Background()
	h := handler(t, db, t.TempDir())
	for run := range 4 {
		if err := h.ProcessTask(ctx, task(t, db, run)); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	good, bad := 0, 0
	for run := range 4 {
		rec := record(t, db, run)
		if rec.State != schema.RunSucceeded {
			t.Errorf("run %d: %s %q, want Succeeded", run, rec.State, rec.Message)
		}
		var withIndex struct {
			Index *resultindex.Summary `bson:"resultIndex"`
		}
		if err := db.Collection(schema.CollRuns).FindOne(ctx, bson.M{"_id": rec.ID}).Decode(&withIndex); err != nil {
			t.Fatal(err)
		}
		var doc resultindex.Doc
		if err := db.Collection(resultindex.Collection).FindOne(ctx, bson.M{"_id": rec.ID}).Decode(&doc); err != nil {
			t.Fatalf("run %d: no index document: %v", run, err)
		}
		if withIndex.Index == nil || rec.ResultIndex == nil || *rec.ResultIndex != *withIndex.Index {
			t.Fatalf("run %d: resultIndex %+v on the record, %+v in the RunRecord", run, withIndex.Index, rec.ResultIndex)
		}
		vars := map[string]string{}
		for _, kv := range doc.Itervars {
			vars[kv.Name] = kv.Value
		}
		if doc.Campaign != "c" || doc.UID != "u1" || doc.Run != run || doc.Attempt != 1 {
			t.Errorf("run %d: index document %+v", run, doc)
		}
		switch {
		case run < 2: // mode=ok (the outer variable), x=1,2
			good++
			if doc.Config != "General" || doc.Repetition != "0" || vars["mode"] != "ok" || vars["x"] != strings.Repeat("1", 1-run)+strings.Repeat("2", run) || len(vars) != 2 {
				t.Errorf("run %d: index document %+v", run, doc)
			}
			if doc.Error != "" || withIndex.Index.Error != "" || withIndex.Index.Values != 1 ||
				len(doc.Values) != 1 || doc.Values[0] != (resultindex.Value{Module: "Net", Name: "value", Value: float64(run * run)}) {
				t.Errorf("run %d: index %+v, summary %+v", run, doc, withIndex.Index)
			}
		default: // mode=badsca
			bad++
			for _, e := range []string{doc.Error, withIndex.Index.Error} {
				if !strings.Contains(e, "mode=badsca") || !strings.Contains(e, ".sca: sca line 10: binary content") {
					t.Errorf("run %d: error %q, want the file, line and fault", run, e)
				}
			}
			if len(doc.Values) != 0 || withIndex.Index.Values != 0 {
				t.Errorf("run %d: values %v from a file that is junk", run, doc.Values)
			}
		}
	}
	if good != 2 || bad != 2 {
		t.Errorf("%d good and %d bad runs indexed, want 2 and 2", good, bad)
	}
}
