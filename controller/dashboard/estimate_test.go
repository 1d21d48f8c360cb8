package dashboard

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

func TestPaceFromDurationsThroughputOrNothing(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	started := at.Add(-10 * time.Minute)
	counts := api.RunCounts{Total: 1000, Succeeded: 300, Failed: 100, Running: 20, Pending: 580}
	// 400 finished, mean 30s, 60 of them in the last five minutes.
	runs := &campaignRuns{durSumMS: 400 * 30000, durN: 400, recent: 60, firstFinish: at.Add(-9 * time.Minute).UnixMilli()}

	p := pace(counts, runs, at, &started)
	if p.MeanDurationMS != 30000 || p.PerMinute != 12 || p.ETABasis != "durations" {
		t.Fatalf("pace = %+v", p)
	}
	// 600 left × 30 s ÷ 20 in flight = 900 s.
	if math.Abs(p.ETASeconds-900) > 1e-9 {
		t.Errorf("ETA %v, want 900s", p.ETASeconds)
	}

	idle := counts
	idle.Running = 0
	if p := pace(idle, runs, at, &started); p.ETABasis != "throughput" || math.Abs(p.ETASeconds-600.0/12*60) > 1e-9 {
		t.Errorf("nothing running: %+v, want the ETA from 12 runs/min", p)
	}
	if p := pace(counts, nil, at, &started); p.ETASeconds != -1 || p.PerMinute != 0 {
		t.Errorf("not indexed yet: %+v, want unknown", p)
	}
	done := api.RunCounts{Total: 5, Succeeded: 5}
	if p := pace(done, &campaignRuns{}, at, &started); p.ETASeconds != 0 {
		t.Errorf("finished campaign: ETA %v, want 0", p.ETASeconds)
	}
	// A campaign that started 2 s ago with 4 finished runs: the rate uses
	// at least 10 s, not 2.
	justNow := at.Add(-2 * time.Second)
	fresh := &campaignRuns{recent: 4, firstFinish: at.Add(-time.Second).UnixMilli(), durN: 4, durSumMS: 4000}
	if p := pace(api.RunCounts{Total: 100, Succeeded: 4, Running: 2}, fresh, at, &justNow); math.Abs(p.PerMinute-24) > 1e-9 {
		t.Errorf("fresh campaign: %v/min, want 24", p.PerMinute)
	}
}

// fakeScanner feeds the run index from a slice (pure logic; the real
// store's ScanRuns is tested in controller/store and by the page tests).
type fakeScanner []store.RunSummary

func (f fakeScanner) ScanRuns(_ context.Context, fn func(*store.RunSummary) error) error {
	for i := range f {
		r := f[i]
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func TestRunIndexPagesByStateAndKeepsTheNewestFailures(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var recs fakeScanner
	// Stored out of order, as bulk inserts of several chunks may be.
	for i := 299; i >= 0; i-- {
		r := store.RunSummary{Campaign: "c", UID: "u", Run: i, State: schema.RunPending, UpdatedAt: at.Add(-time.Hour)}
		switch {
		case i%3 == 0:
			fin := at.Add(-time.Duration(i) * time.Second)
			r.State, r.DurationMS, r.FinishedAt = schema.RunSucceeded, 2000, &fin
		case i%10 == 1:
			r.State, r.StderrTail, r.UpdatedAt = schema.RunFailed, string(make([]byte, 5000)), at.Add(-time.Duration(i+10)*time.Minute)
		}
		recs = append(recs, r)
	}
	recs = append(recs, store.RunSummary{Campaign: "other", UID: "x", Run: 0, State: schema.RunRunning})
	ix := newRunIndex(recs, func() time.Time { return at }, time.Second, time.Minute, zap.NewNop())
	s, err := ix.build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := s.campaign("c", "u")
	if s.runs != 301 || c == nil || len(c.rows) != 300 || c.counts[stSucceeded] != 100 || c.counts[stFailed] != 20 {
		t.Fatalf("snapshot: %d runs, campaign %+v", s.runs, c)
	}
	if c.durN != 100 || c.durSumMS != 200000 {
		t.Errorf("durations: %d runs, %d ms", c.durN, c.durSumMS)
	}
	// Finished within five minutes: runs 0, 3, ..., 297 at i seconds ago.
	if c.recent != 100 {
		t.Errorf("recent finishes %d, want 100", c.recent)
	}

	rows, next := c.page(stAny, -1, 50)
	if len(rows) != 50 || rows[0].run != 0 || rows[49].run != 49 || next != 49 {
		t.Fatalf("first page: %d rows %d..%d next %d", len(rows), rows[0].run, rows[len(rows)-1].run, next)
	}
	rows, next = c.page(stFailed, 100, 5)
	if len(rows) != 5 || rows[0].run != 101 || rows[4].run != 161 || next != 161 {
		t.Fatalf("failed after 100: %v next %d", rows, next)
	}
	rows, next = c.page(stFailed, 250, 50)
	if len(rows) != 3 || next != -1 {
		t.Fatalf("last failed page: %d rows, next %d", len(rows), next)
	}
	if rows, next := c.page(stRunning, -1, 50); len(rows) != 0 || next != -1 {
		t.Fatalf("no running runs: %v %d", rows, next)
	}

	if len(s.failures) != 20 || s.failures[0].Run != 1 || s.failures[19].Run != 281 || len(s.failures[0].StderrTail) != maxTailBytes {
		t.Fatalf("failures: %d, first %+v", len(s.failures), s.failures[0])
	}
	if _, err := runFilter("Exploded"); err == nil {
		t.Error("an unknown state filter was accepted")
	}
}

func TestRunIndexScansOnlyWhileWanted(t *testing.T) {
	now := time.Now()
	var clock = func() time.Time { return now }
	var n atomic.Int64
	sc := countingScanner{n: &n}
	ix := newRunIndex(sc, clock, 10*time.Millisecond, time.Minute, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ix.run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	if n.Load() != 0 {
		t.Fatalf("%d scans before anyone asked", n.Load())
	}
	if ix.get() != nil {
		t.Fatal("a snapshot before the first scan")
	}
	deadline := time.Now().Add(5 * time.Second)
	for ix.snap.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no scan after a view asked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

type countingScanner struct{ n *atomic.Int64 }

func (c countingScanner) ScanRuns(context.Context, func(*store.RunSummary) error) error {
	c.n.Add(1)
	return nil
}
