package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/test/testproc"
	"github.com/simswarm/simswarm/workers/resultfiles"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// BenchmarkIndexCost measures what the result index adds to storing a
// run's results, on FerretDB, with the result files of a real aloha run.
// A run's storage cost is its upload (reading and hashing its files into
// GridFS chunks) and its group commit (chunks, file documents, completion,
// record); with indexing, also parsing its .sca and writing its index
// document. Runs are stored one at a time, in pairs of one run without
// and one with indexing, the order alternating from pair to pair, each
// run timed alone, so that the machine's load (it is shared) falls on
// both alike. Reported: index-ratio, the sum of the indexed runs' times
// over the plain runs' (the aim: below 1.10), ratio-median, the median of
// the pairs' ratios, and both costs per run. Cases: the .sca alone
// (vector recording off: the index's worst ratio) and all of aloha's
// result files (.sca, .vec, .vci). Runs per case: $SIMSWARM_BENCH_PAIRS
// (400 for .sca alone, a tenth of it with the vectors), per b.N.
//
//	go test -run '^$' -bench IndexCost -benchtime 1x ./workers/runner
//	test/bench/index-cost.sh
func BenchmarkIndexCost(b *testing.B) {
	omn := omnetpp.Find(b)
	dir := omn.Sample(b, "aloha")
	cmd := exec.Command("./aloha", "-u", "Cmdenv", "-s", "-c", "PureAlohaExperiment", "-r", "0")
	cmd.Dir, cmd.Env = dir, omn.Env()
	testproc.Prepare(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("aloha: %v\n%s", err, out)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "results", "*"))
	sca, _ := filepath.Glob(filepath.Join(dir, "results", "*.sca"))
	if len(all) != 3 || len(sca) != 1 {
		b.Fatalf("aloha wrote %v", all)
	}
	pairs := 400
	if n, err := strconv.Atoi(os.Getenv("SIMSWARM_BENCH_PAIRS")); err == nil && n > 0 {
		pairs = n
	}
	b.Run("sca", func(b *testing.B) { benchIndexCost(b, sca, pairs) })
	b.Run("sca+vec+vci", func(b *testing.B) { benchIndexCost(b, all, max(pairs/10, 2)) })
}

func benchIndexCost(b *testing.B, paths []string, pairs int) {
	var size int64
	var found []resultfiles.Found
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
		found = append(found, resultfiles.Found{Path: p, Name: filepath.Base(p)})
	}
	ctx := context.Background()
	client, db, err := schema.Connect(ctx, testdb.StartMongo(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	h := &Handler{DB: db, Worker: "w"}
	// storeOne stores run i of campaign "plain" or "indexed" as the
	// handler does for a run of one, and returns how long it took.
	storeOne := func(i int, index bool) time.Duration {
		campaign := "plain"
		if index {
			campaign = "indexed"
		}
		rt := schema.RunTask{Campaign: campaign, UID: campaign, Run: i}
		t0 := time.Now()
		files, c, err := h.upload(ctx, rt, 1, found)
		if err != nil {
			b.Fatal(err)
		}
		if index {
			c.index = indexResults(rt, 1, paths)
		}
		c.comp = &schema.Completion{ID: schema.RunID(campaign, campaign, i), Campaign: campaign, UID: campaign, Attempt: 1, Files: files}
		if err := h.commits.store(h.writer(), c); err != nil || c.indexErr != nil || (index && len(c.index.Values) == 0) {
			b.Fatalf("store: %v, index: %v", err, c.indexErr)
		}
		return time.Since(t0)
	}
	b.ResetTimer()
	var plain, indexed time.Duration
	var ratios []float64
	n := pairs * b.N
	for i := range n {
		var p, x time.Duration
		if i%2 == 0 {
			p = storeOne(i, false)
			x = storeOne(i, true)
		} else {
			x = storeOne(i, true)
			p = storeOne(i, false)
		}
		plain += p
		indexed += x
		ratios = append(ratios, float64(x)/float64(p))
	}
	b.StopTimer()
	indexedRuns := 0
	if _, err := resultindex.Scan(ctx, db, "indexed", nil, func(d *resultindex.Doc) error {
		indexedRuns++
		if len(d.Values) == 0 {
			return fmt.Errorf("run %d indexed without values", d.Run)
		}
		return nil
	}); err != nil || indexedRuns != n {
		b.Fatalf("%d runs in the index, want %d: %v", indexedRuns, n, err)
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(plain.Microseconds())/float64(n), "store-µs/run")
	b.ReportMetric(float64(indexed.Microseconds())/float64(n), "store+index-µs/run")
	b.ReportMetric(float64(indexed)/float64(plain), "index-ratio")
	b.ReportMetric(ratios[len(ratios)/2], "ratio-median")
	b.ReportMetric(float64(size), "result-bytes/run")
}
