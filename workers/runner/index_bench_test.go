package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/test/testproc"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// BenchmarkIndexCost measures what the result index adds to storing a
// run's results, on FerretDB, with the result files of a real aloha run:
// b.N runs are stored without their index (upload, then the group commit:
// chunks, file documents, completion, record) and b.N more with it
// (parsing the .sca, and the index documents' insert in the same group
// commit), by `slots` tasks at once, half of each in the order without,
// with, with, without (the collections grow, and later runs cost more).
// index-% is the extra time of those with the index. Cases: all of aloha's result files (.sca, .vec,
// .vci) and its .sca alone (vector recording off: the index's worst
// ratio), one run at a time (every run pays a command of its own for its
// index document) and eight at once (runs finishing together share it).
// The aim: index-% below 10.
//
//	go test -run '^$' -bench IndexCost -benchtime 100x ./workers/runner
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
	for _, files := range []struct {
		name  string
		paths []string
	}{{"sca+vec+vci", all}, {"sca", sca}} {
		for _, slots := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/slots=%d", files.name, slots), func(b *testing.B) { benchIndexCost(b, files.paths, slots) })
		}
	}
}

func benchIndexCost(b *testing.B, paths []string, slots int) {
	var size int64
	for _, p := range paths {
		st, _ := os.Stat(p)
		size += st.Size()
	}
	var found []resultfiles.Found
	for _, p := range paths {
		found = append(found, resultfiles.Found{Path: p, Name: filepath.Base(p)})
	}
	ctx := context.Background()
	client, db, err := schema.Connect(ctx, testdb.StartMongo(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	h := &Handler{DB: db, Worker: "w"}
	storeAll := func(campaign string, from, to int, index bool) time.Duration {
		var next atomic.Int64
		next.Store(int64(from))
		var wg sync.WaitGroup
		t0 := time.Now()
		for range slots {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= to {
						return
					}
					rt := schema.RunTask{Campaign: campaign, UID: "u", Run: i}
					files, c, err := h.upload(ctx, rt, 1, found)
					if err != nil {
						b.Error(err)
						return
					}
					if index {
						c.index = indexResults(rt, 1, paths)
					}
					c.comp = &schema.Completion{ID: schema.RunID(campaign, "u", i), Campaign: campaign, UID: "u", Attempt: 1, Files: files}
					if err := h.commits.store(db, c); err != nil || c.indexErr != nil || (index && len(c.index.Values) == 0) {
						b.Errorf("store: %v, index: %v", err, c.indexErr)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(t0)
	}
	b.ResetTimer()
	half := b.N / 2
	without := storeAll("plain", 0, half, false)
	with := storeAll("indexed", 0, half, true)
	with += storeAll("indexed", half, b.N, true)
	without += storeAll("plain", half, b.N, false)
	b.StopTimer()
	n, _ := db.Collection("resultindex").CountDocuments(ctx, map[string]any{})
	if int(n) != b.N {
		b.Fatalf("%d index documents, want %d", n, b.N)
	}
	b.ReportMetric(float64(without.Microseconds())/float64(b.N), "store-µs/run")
	b.ReportMetric(float64(with.Microseconds())/float64(b.N), "store+index-µs/run")
	b.ReportMetric(100*float64(with-without)/float64(without), "index-%")
	b.ReportMetric(float64(size), "result-bytes/run")
}
