//go:build scalebench

package scale

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// envInts reads a comma-separated list of numbers from the environment.
func envInts(b *testing.B, name, def string) []int {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		out = append(out, n)
	}
	return out
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return d
}

// BenchmarkControlPlane: sustained runs/s of one controller with
// SIMSWARM_SCALE_WORKERS (default 10,100,1000) simulated runners of 16
// slots, each run SIMSWARM_SCALE_RUNTIME long (default 0: the control
// plane is the only limit), and what it costs each server; from these, the
// largest cluster of 16-slot nodes that one controller keeps busy with 1 s,
// 10 s and 60 s runs.
func BenchmarkControlPlane(b *testing.B) {
	runtime := envDuration(b, "SIMSWARM_SCALE_RUNTIME", 0)
	warm := envDuration(b, "SIMSWARM_SCALE_WARMUP", 15*time.Second)
	window := envDuration(b, "SIMSWARM_SCALE_WINDOW", 30*time.Second)
	var table []Measurement
	for _, w := range envInts(b, "SIMSWARM_SCALE_WORKERS", "10,100,1000") {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			h := Start(b, Options{IDIndex: true, MongoDir: os.Getenv("SIMSWARM_SCALE_MONGO_DIR")})
			h.Builder(b)
			t0 := time.Now()
			f := h.Fleet(b, FleetOptions{Workers: w, Slots: 16, RunTime: runtime})
			b.Logf("%d simulated runners started in %s", w, time.Since(t0).Round(time.Millisecond))
			h.Apply(b, "bench", 200_000)
			m := h.Measure(b, f, 200_000, warm, window)
			table = append(table, m)
			b.ReportMetric(m.RunsPerSec, "runs/s")
			b.ReportMetric(m.ControllerCPU*100, "ctl-cpu%")
			b.ReportMetric(float64(m.ControllerRSS>>20), "ctl-rss-MB")
			b.ReportMetric(m.RedisOpsPerSec, "redis-ops/s")
			b.ReportMetric(m.RedisCPU*100, "redis-cpu%")
			b.ReportMetric(m.MongoCPU*100, "mongo-cpu%")
		})
	}
	fmt.Printf("\ncontrol plane, simulated runs of %s, 16 slots per worker:\n", runtime)
	for _, m := range table {
		fmt.Println(m)
	}
	for _, m := range table {
		fmt.Print(m.CommandTable())
	}
	fmt.Println("\nlargest cluster of 16-slot nodes one controller keeps busy (measured runs/s x run time / 16):")
	for _, m := range table {
		fmt.Printf("  at %4d workers (%.0f runs/s): 1 s runs %6.0f nodes, 10 s runs %7.0f nodes, 60 s runs %8.0f nodes\n",
			m.Workers, m.RunsPerSec, m.RunsPerSec/16, m.RunsPerSec*10/16, m.RunsPerSec*60/16)
	}
}

// BenchmarkMillionRuns applies a campaign of api.MaxRuns runs to a
// controller with SIMSWARM_SCALE_WORKERS (default 100) simulated runners
// of 16 slots (1 s runs): the time to first dispatch, the controller's
// peak RSS, how fast run records are created, and the latencies of get,
// describe and the dashboard meanwhile.
func BenchmarkMillionRuns(b *testing.B) {
	workers := envInts(b, "SIMSWARM_SCALE_WORKERS", "100")[0]
	runtime := envDuration(b, "SIMSWARM_SCALE_RUNTIME", time.Second)
	window := envDuration(b, "SIMSWARM_SCALE_WINDOW", 2*time.Minute)
	h := Start(b, Options{IDIndex: true, MongoDir: os.Getenv("SIMSWARM_SCALE_MONGO_DIR")})
	h.Builder(b)
	f := h.Fleet(b, FleetOptions{Workers: workers, Slots: 16, RunTime: runtime})
	_, rss0, _ := ProcMem(h.ControllerPID)
	ctx, cancel := context.WithCancel(context.Background())
	probed := make(chan *Probe, 1)
	mc, db, err := schema.Connect(context.Background(), h.MongoURI)
	if err != nil {
		b.Fatal(err)
	}
	defer mc.Disconnect(context.Background())
	var tl Timeline
	watched := make(chan struct{})
	t0 := time.Now()
	go func() {
		defer close(watched)
		h.watchTimeline(ctx, db, f, t0, &tl)
	}()
	h.Apply(b, "million", api.MaxRuns)
	applied := time.Since(t0)
	tl.Uploaded, tl.Applied = h.uploaded.Sub(t0), applied
	go func() { probed <- h.Probe(ctx, b, "million", time.Second) }()
	var first time.Duration
	var created time.Duration
	var stored int64
	end := time.Now().Add(window)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for time.Now().Before(end) {
		if first == 0 && !f.FirstStart().IsZero() {
			first = f.FirstStart().Sub(t0)
		}
		select {
		case <-tick.C:
			n, err := db.Collection(schema.CollRuns).EstimatedDocumentCount(context.Background())
			// Simulated runs are not stored runs: a runner whose runs wait
			// for the database takes no new task, and that looked like a
			// stall of dispatch.
			stored, _ = db.Collection(schema.CollCompletions).EstimatedDocumentCount(context.Background())
			_, peak, _ := ProcMem(h.ControllerPID)
			b.Logf("%6.1f s: %7d run records, %6d runs simulated, %6d stored, controller peak RSS %d MB (%v)",
				time.Since(t0).Seconds(), n, f.Simulated(), stored, peak>>20, err)
			if n >= api.MaxRuns && created == 0 {
				created = time.Since(t0)
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-watched
	p := <-probed
	rss, peak, _ := ProcMem(h.ControllerPID)
	fmt.Printf("\n%d-run campaign on %d simulated runners x 16 slots (%s runs):\n", api.MaxRuns, workers, runtime)
	fmt.Printf("  apply answered in %s; first simulation %s after apply began\n", applied.Round(time.Millisecond), first.Round(time.Millisecond))
	fmt.Printf("  where the time to the first simulation went:\n%s", tl)
	if created > 0 {
		fmt.Printf("  all run records created within %s\n", created.Round(time.Second))
	} else {
		fmt.Printf("  run records not all created within %s\n", window)
	}
	fmt.Printf("  controller RSS before %d MB, now %d MB, peak %d MB\n", rss0>>20, rss>>20, peak>>20)
	fmt.Printf("  %d runs simulated and %d stored in %s\n", f.Simulated(), stored, window)
	fmt.Printf("  get: %s\n  describe: %s\n  runs (first page): %s\n  dashboard campaign view: %s\n  dashboard overview: %s\n",
		p.Get, p.Describe, p.Runs, p.Dashboard, p.Overview)
	for i, err := range p.Errors {
		if i == 5 {
			break
		}
		fmt.Printf("  error: %v\n", err)
	}
	b.ReportMetric(first.Seconds(), "first-dispatch-s")
	b.ReportMetric(float64(peak>>20), "ctl-peak-rss-MB")
}
