package store

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// BenchmarkResultTableFromIndex: the controller's side of `results table`
// over a campaign of 100,000 indexed aloha-shaped runs (21 values each) on
// FerretDB, the table of one scalar: as the runners write the index
// (resultindex.Insert in batches of 1000, which compacts the runs into
// segments) and read by ScanResultIndex, against the baseline in the same
// run: the same documents one per run, uncompacted, read one by one (the
// layout before segments). Reports both and their ratio, and checks that
// both tables are the same (the table alone: workers/resulttable
// BenchmarkTable100kRuns).
//
//	go test -run '^$' -bench ResultTableFromIndex -benchtime 1x ./controller/store
func BenchmarkResultTableFromIndex(b *testing.B) {
	runs := benchRuns()
	ctx := context.Background()
	s, err := Open(ctx, testdb.StartMongo(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	base := s.DB.Client().Database("baseline").Collection(resultindex.Collection)
	names := []string{"duration", "collisionLength:mean", "collisionLength:sum", "collisionLength:max", "collidedFrames:last", "channelUtilization:last", "receivedFrames:last"}
	var batch []*resultindex.Doc
	var write, baseWrite time.Duration
	for i := range runs {
		p := i % 18
		d := &resultindex.Doc{ID: "c/u/" + strconv.Itoa(i), Campaign: "c", UID: "u", Run: i, Attempt: 1, Config: "PureAlohaExperiment",
			Repetition: strconv.Itoa(i / 18),
			Itervars:   []resultindex.KV{{Name: "iaMean", Value: strconv.Itoa(1 + p%6)}, {Name: "numHosts", Value: strconv.Itoa(10 + 5*(p/6))}}}
		for k, n := range names {
			d.Values = append(d.Values, resultindex.Value{Module: "Aloha.server", Name: n, Value: float64(i%97)/97 + float64(k)})
		}
		for _, st := range []string{"collisionLength:histogram", "collisionMultiplicity:histogram"} {
			for _, f := range []string{"count", "mean", "stddev", "min", "max", "sum", "sqrsum"} {
				d.Values = append(d.Values, resultindex.Value{Module: "Aloha.server", Name: st + ":" + f, Value: float64(i % 89)})
			}
		}
		batch = append(batch, d)
		if len(batch) == 1000 || i == runs-1 {
			t0 := time.Now()
			if errs, err := resultindex.Insert(ctx, s.DB, batch); err != nil || errs[0] != nil {
				b.Fatal(err, errs)
			}
			write += time.Since(t0)
			all := make([]any, len(batch))
			for k, d := range batch {
				all[k] = d
			}
			t0 = time.Now()
			if _, err := base.InsertMany(ctx, all); err != nil {
				b.Fatal(err)
			}
			baseWrite += time.Since(t0)
			batch = batch[:0]
		}
	}
	small, _ := s.DB.Collection(resultindex.SmallSegmentCollection).CountDocuments(ctx, bson.M{})
	segs, _ := s.DB.Collection(resultindex.SegmentCollection).CountDocuments(ctx, bson.M{})
	loose, _ := s.DB.Collection(resultindex.Collection).CountDocuments(ctx, bson.M{})
	b.Logf("%d runs written in %v with compaction (%d merged and %d small segments, %d runs not compacted), in %v one document per run", runs, write, segs, small, loose, baseWrite)
	const scalar = "Aloha.server.channelUtilization:last"
	b.ResetTimer()
	var scan, baseline time.Duration
	for range b.N {
		f, _ := resulttable.NewFilter([]string{scalar})
		tb := resulttable.NewBuilder(f)
		t0 := time.Now()
		n := 0
		err := s.ScanResultIndex(ctx, "u", f.Match, func(d *resultindex.Doc) error {
			n++
			tb.AddRun(d.Itervars, d.Values)
			return nil
		})
		got := tb.Table()
		scan += time.Since(t0)
		if err != nil || n != runs || len(got.Rows) != 18 {
			b.Fatalf("scanned %d, %d rows: %v", n, len(got.Rows), err)
		}

		// The baseline: every run's document read and decoded.
		bb := resulttable.NewBuilder(f)
		t0 = time.Now()
		cur, err := base.Find(ctx, bson.M{"uid": "u"}, options.Find().SetBatchSize(2000))
		if err != nil {
			b.Fatal(err)
		}
		for cur.Next(ctx) {
			var d resultindex.Doc
			if err := cur.Decode(&d); err != nil {
				b.Fatal(err)
			}
			bb.AddRun(d.Itervars, d.Values)
		}
		cur.Close(ctx)
		want := bb.Table()
		baseline += time.Since(t0)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			b.Fatalf("the tables differ:\n%s\n%s", gj, wj)
		}
	}
	b.ReportMetric(scan.Seconds()/float64(b.N), "scan+table-s")
	b.ReportMetric(baseline.Seconds()/float64(b.N), "baseline-s")
	b.ReportMetric(baseline.Seconds()/scan.Seconds(), "speedup-x")
	b.ReportMetric(write.Seconds()*1e6/float64(runs), "write-us/run")
	b.ReportMetric(baseWrite.Seconds()*1e6/float64(runs), "baseline-write-us/run")
}

// benchRuns is 100,000, or $SIMSWARM_BENCH_RUNS.
func benchRuns() int {
	if n, err := strconv.Atoi(os.Getenv("SIMSWARM_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}
