package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// TestPruneRemovesTheResultIndex: pruning a result set removes its runs'
// index documents with their completions, and leaves another uid's.
func TestPruneRemovesTheResultIndex(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for _, uid := range []string{"u1", "u2"} {
		for run := range 3 {
			id := schema.RunID("c", uid, run)
			if _, err := s.DB.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: id, Campaign: "c", UID: uid}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DB.Collection(resultindex.Collection).InsertOne(ctx, resultindex.Doc{ID: id, Campaign: "c", UID: uid, Run: run}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; ; i++ {
		done, err := s.PruneBatch(ctx, "u1", 2)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if i > 10 {
			t.Fatal("prune does not end")
		}
	}
	for uid, want := range map[string]int64{"u1": 0, "u2": 3} {
		n, err := s.DB.Collection(resultindex.Collection).CountDocuments(ctx, bson.M{"uid": uid})
		if err != nil || n != want {
			t.Errorf("%s: %d index documents (%v), want %d", uid, n, err, want)
		}
	}
}

// direct is the collection tableJSON reads without a store.
var direct *mongo.Collection

// tableJSON is the table of uid's index (s nil: of the run documents in
// direct), of the values patterns select.
func tableJSON(t *testing.T, s *Store, uid string, patterns ...string) string {
	t.Helper()
	f, err := resulttable.NewFilter(patterns)
	if err != nil {
		t.Fatal(err)
	}
	b := resulttable.NewBuilder(f)
	add := func(d *resultindex.Doc) error {
		if d.Error != "" {
			b.Problem(fmt.Sprintf("run %d (%d values): %s", d.Run, d.Indexed, d.Error))
		}
		b.AddRun(d.Itervars, d.Values)
		return nil
	}
	if s != nil {
		err = s.ScanResultIndex(context.Background(), uid, f.Match, add)
	} else {
		// The documents themselves, read as before segments: all of them.
		cur, err := direct.Find(context.Background(), bson.M{"uid": uid})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(context.Background()) {
			var d resultindex.Doc
			if err := cur.Decode(&d); err != nil {
				t.Fatal(err)
			}
			d.Indexed = len(d.Values)
			var kept []resultindex.Value
			for _, v := range d.Values {
				if f.Match(v.Module, v.Name) {
					kept = append(kept, v)
				}
			}
			d.Values = kept
			add(&d)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(b.Table())
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

// The result index's tables are the same before and after its runs are
// compacted into segments (the runners' Insert and a scan that finds many
// do it): the same rows, numbers, variables and problems, for every
// filter; each run counts once even when it is both in a segment and a
// run document (a crash between the two writes, or a rewrite); pruning
// removes the segments too.
func TestResultTableSameAfterCompaction(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const runs = 700
	var docs []any
	for i := range runs {
		d := &resultindex.Doc{ID: schema.RunID("c", "u", i), Campaign: "c", UID: "u", Run: i, Attempt: 1 + i%3,
			Repetition: strconv.Itoa(i / 12), Itervars: []resultindex.KV{{Name: "numHosts", Value: strconv.Itoa(10 * (1 + i%4))},
				{Name: "iaMean", Value: strconv.Itoa(1+i/4%3) + "s"}, {Name: "repetition", Value: strconv.Itoa(i / 12)}}}
		for k := range 5 + i%3 { // runs with more values than others
			d.Values = append(d.Values, resultindex.Value{Module: "Net.host[" + strconv.Itoa(k) + "]", Name: "sent:count", Value: float64(i*k) / 7})
		}
		d.Values = append(d.Values, resultindex.Value{Module: "Net.server", Name: "util:last", Value: 1 / float64(1+i%11)},
			resultindex.Value{Module: "Net.server", Name: "util:last", Value: 0.1 * float64(i%5)}) // twice in one run
		if i%50 == 0 {
			d.Values = append(d.Values, resultindex.Value{Module: "Net.server", Name: "odd", Value: math.NaN()})
		}
		if i%97 == 0 {
			d.Error = "b.sca: line 3: malformed"
		}
		if i == 300 {
			d.Values = nil
		}
		docs = append(docs, d)
	}
	coll := s.DB.Collection(resultindex.Collection)
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	filters := [][]string{nil, {"Net.server.util:last"}, {"**.sent:count"}, {"Net.server.odd"}}
	var before []string
	direct = coll
	for _, f := range filters {
		before = append(before, tableJSON(t, nil, "u", f...))
	}
	// A scan finds 700 run documents: it compacts them.
	if got := tableJSON(t, s, "u"); got != before[0] {
		t.Errorf("the first scan's table:\n%s\nthe documents'\n%s", got, before[0])
	}
	if !strings.Contains(before[0], `"runs":700`) || !strings.Contains(before[0], "line 3: malformed") {
		t.Fatalf("table before: %.300s", before[0])
	}
	if n, _ := coll.CountDocuments(ctx, bson.M{"uid": "u"}); n != 0 {
		t.Fatalf("%d run documents left after a scan of %d", n, runs)
	}
	if n, _ := s.DB.Collection(resultindex.SmallSegmentCollection).CountDocuments(ctx, bson.M{"uid": "u"}); n != 1 {
		t.Fatalf("%d small segments, want 1", n)
	}
	for i, f := range filters {
		if got := tableJSON(t, s, "u", f...); got != before[i] {
			t.Errorf("filter %v: the table changed with compaction:\n%s\nwas\n%s", f, got, before[i])
		}
	}
	// A run in a segment and in a document again counts once (the
	// document's copy).
	if _, err := coll.InsertOne(ctx, docs[5]); err != nil {
		t.Fatal(err)
	}
	if got := tableJSON(t, s, "u"); got != before[0] {
		t.Errorf("a run both compacted and not: the table changed:\n%s", got)
	}
	// The runners' Insert compacts as it goes.
	var more []*resultindex.Doc
	for i := range 3 * resultindex.CompactMin {
		more = append(more, &resultindex.Doc{ID: schema.RunID("c", "u2", i), Campaign: "c", UID: "u2", Run: i,
			Itervars: []resultindex.KV{}, Values: resultindex.Values{{Module: "m", Name: "n", Value: float64(i)}}})
	}
	for i := 0; i < len(more); i += 100 {
		if _, err := resultindex.Insert(ctx, s.DB, more[i:min(i+100, len(more))]); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := coll.CountDocuments(ctx, bson.M{"uid": "u2"}); n >= 2*resultindex.CompactMin {
		t.Errorf("%d of %d runs written by Insert are not compacted", n, len(more))
	}
	if got := tableJSON(t, s, "u2"); !strings.Contains(got, `"runs":768`) || !strings.Contains(got, `"n":768`) {
		t.Errorf("u2 table: %s", got)
	}
	// Runners' commits of a few runs each: the small segments they make
	// are merged, and the tables stay those of the documents.
	ref := s.DB.Client().Database("reference").Collection(resultindex.Collection)
	var u3 []*resultindex.Doc
	for i := range (resultindex.MergeMin + 8) * resultindex.CompactMin {
		d := *docs[i%runs].(*resultindex.Doc)
		d.ID, d.UID, d.Run = schema.RunID("c", "u3", i), "u3", i
		u3 = append(u3, &d)
		if _, err := ref.InsertOne(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < len(u3); i += 4 {
		if _, err := resultindex.Insert(ctx, s.DB, u3[i:i+4]); err != nil {
			t.Fatal(err)
		}
	}
	direct = ref
	for _, f := range filters {
		want := tableJSON(t, nil, "u3", f...)
		if got := tableJSON(t, s, "u3", f...); got != want {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Errorf("filter %v: merged segments' table differs from the documents' at byte %d:\n%.300s\nthe documents'\n%.300s", f, i, got[i:], want[i:])
		}
	}
	small, _ := s.DB.Collection(resultindex.SmallSegmentCollection).CountDocuments(ctx, bson.M{"uid": "u3"})
	merged, _ := s.DB.Collection(resultindex.SegmentCollection).CountDocuments(ctx, bson.M{"uid": "u3"})
	if small >= resultindex.MergeMin || merged == 0 {
		t.Errorf("u3: %d small segments and %d merged, want fewer than %d and some", small, merged, resultindex.MergeMin)
	}
	// Pruning the result set removes its segments, and only its.
	for done := false; !done; {
		var err error
		if done, err = s.PruneBatch(ctx, "u", 1000); err != nil {
			t.Fatal(err)
		}
	}
	for _, coll := range []string{resultindex.SmallSegmentCollection, resultindex.SegmentCollection} {
		segs := s.DB.Collection(coll)
		if n, _ := segs.CountDocuments(ctx, bson.M{"uid": "u"}); n != 0 {
			t.Errorf("%d segments in %s of a pruned result set", n, coll)
		}
	}
	if n, _ := s.DB.Collection(resultindex.SegmentCollection).CountDocuments(ctx, bson.M{"uid": "u3"}); n == 0 {
		t.Error("pruning u removed u3's segments")
	}
}
