package local

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BenchmarkExecuteOverhead runs 200 trivial runs (a shell script that
// writes one small file) per iteration on NumCPU slots and reports the wall
// time per run: the executor's overhead on top of fork/exec of the program.
// Compare with test/bench/runall-vs-xargs.sh for the same against xargs.
func BenchmarkExecuteOverhead(b *testing.B) {
	const runs = 200
	dir := b.TempDir()
	prog := filepath.Join(dir, "sim")
	// One run per process, writing one result file with its header.
	script := "#!/bin/sh\nr=$2\nmkdir -p results && printf 'version 3\\nrun x\\nattr configname General\\nattr runnumber %s\\n' $r > results/r-#$r.sca\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	p := &Plan{Name: "bench", Args: []string{prog}, Dir: dir, Config: "General",
		BatchSize: 1, Timeout: time.Minute, Results: []string{"results/*.sca"}}
	for i := range runs {
		p.Runs = append(p.Runs, i)
	}
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		sum, err := Execute(context.Background(), p, Options{ResultsDir: filepath.Join(dir, "out"), Jobs: runtime.NumCPU(), Force: true})
		total += time.Since(start)
		if err != nil || sum.Succeeded != runs {
			b.Fatalf("%v %+v", err, sum)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N*runs), "us/run")
}
