package store

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// BenchmarkResultTableFromIndex: the controller's side of `results table`
// over a campaign of 100,000 indexed aloha-shaped runs (21 values each):
// one scan of the result index on FerretDB, feeding the table of one
// scalar. Reports the scan and the table separately (the table alone:
// workers/resulttable BenchmarkTable100kRuns).
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
	names := []string{"duration", "collisionLength:mean", "collisionLength:sum", "collisionLength:max", "collidedFrames:last", "channelUtilization:last", "receivedFrames:last"}
	var batch []*resultindex.Doc
	for i := range runs {
		p := i % 18
		d := &resultindex.Doc{ID: "c/u/" + strconv.Itoa(i), Campaign: "c", UID: "u", Run: i, Attempt: 1, Config: "PureAlohaExperiment",
			Repetition: strconv.Itoa(i / 18),
			Itervars:   []resultindex.KV{{Name: "iaMean", Value: strconv.Itoa(1 + p%6)}, {Name: "numHosts", Value: strconv.Itoa(10 + 5*(p/6))}}}
		for _, n := range names {
			d.Values = append(d.Values, resultindex.Value{Module: "Aloha.server", Name: n, Value: float64(i%97) / 97})
		}
		for _, st := range []string{"collisionLength:histogram", "collisionMultiplicity:histogram"} {
			for _, f := range []string{"count", "mean", "stddev", "min", "max", "sum", "sqrsum"} {
				d.Values = append(d.Values, resultindex.Value{Module: "Aloha.server", Name: st + ":" + f, Value: float64(i % 89)})
			}
		}
		batch = append(batch, d)
		if len(batch) == 1000 || i == runs-1 {
			if errs, err := resultindex.Insert(ctx, s.DB, batch); err != nil || errs[0] != nil {
				b.Fatal(err, errs)
			}
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	var scan time.Duration
	for range b.N {
		f, _ := resulttable.NewFilter([]string{"Aloha.server.channelUtilization:last"})
		tb := resulttable.NewBuilder(f)
		t0 := time.Now()
		n := 0
		err := s.ScanResultIndex(ctx, "u", func(d *resultindex.Doc) error {
			n++
			tb.AddRun(d.Itervars, d.Values)
			return nil
		})
		scan += time.Since(t0)
		if err != nil || n != runs {
			b.Fatalf("scanned %d: %v", n, err)
		}
		if t := tb.Table(); len(t.Rows) != 18 {
			b.Fatalf("%d rows", len(t.Rows))
		}
	}
	b.ReportMetric(scan.Seconds()/float64(b.N), "scan+table-s")
}

// benchRuns is 100,000, or $SIMSWARM_BENCH_RUNS.
func benchRuns() int {
	if n, err := strconv.Atoi(os.Getenv("SIMSWARM_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}
