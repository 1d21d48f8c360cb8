package local

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCollectInPlace is runall's collecting of one run's files as
// aloha writes them (a .sca, a 2.6 MB .vec with its .vci, and the .out its
// header names), left in place: the CPU simswarm spends per credited file
// (attribution, header, digest, claim): cpu-us/file is the CPU time of the
// thread collecting (the wall time includes writing the files).
func BenchmarkCollectInPlace(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	dir := b.TempDir()
	results := filepath.Join(dir, "results")
	if err := os.MkdirAll(results, 0o755); err != nil {
		b.Fatal(err)
	}
	const runs = 16
	head := func(run int) string {
		return fmt.Sprintf("version 3\nrun PureAlohaExperiment-%d-20260101-00:00:00-1\nattr configname PureAlohaExperiment\nattr datetime 20260101-00:00:00\nattr experiment PureAlohaExperiment\nattr inifile omnetpp.ini\nattr iterationvars \"$numHosts=10, $iaMean=1\"\nattr iterationvarsf numHosts=10,iaMean=%d-\nattr measurement \"$numHosts=10, $iaMean=1\"\nattr network Aloha\nattr processid 1\nattr repetition 0\nattr replication #0\nattr resultdir results\nattr runnumber %d\nattr seedset 0\nconfig network Aloha\nconfig Aloha.numHosts 10\nconfig Aloha.host[*].iaTime \"exponential(1s)\"\n", run, run, run)
	}
	body := strings.Repeat("0\t12345\t1.234567890123\t0.5\n", 2600<<10/30)
	write := func(r int) {
		base := filepath.Join(results, fmt.Sprintf("PureAlohaExperiment-numHosts=10,iaMean=%d-#0", r))
		files := map[string]string{
			".sca": head(r) + strings.Repeat("scalar Aloha.server collidedFrames:last 12345\n", 100),
			".vec": head(r) + "vector 0 Aloha.server radioState:vector ETV\n" + body,
			".vci": "file 123 456\n" + head(r) + strings.Repeat("0\t0\t8192\t0\t0\t0.1\t0.2\t10\t0\t1\t0\t1\n", 100),
			".out": "Preparing for running configuration PureAlohaExperiment, run #0...\nEnd.\n",
		}
		for ext, s := range files {
			if err := os.WriteFile(base+ext, []byte(s), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		os.RemoveAll(results)
		os.MkdirAll(results, 0o755)
		c := newCollector(dir, results, nil, "PureAlohaExperiment", nil)
		c.watch()
		since := time.Now().Add(-time.Minute)
		for r := range runs {
			b.StopTimer()
			write(r) // the run's files, as its process closes them
			b.StartTimer()
			before := threadCPU()
			got, err := c.collect([]int{r}, since)
			cpu += threadCPU() - before
			if err != nil || len(got.files[r]) != 4 {
				b.Fatalf("run %d: %v, %+v", r, err, got)
			}
		}
		c.close()
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*runs*4), "cpu-us/file")
}

// threadCPU is the CPU time the calling thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWritesBelowTheChangeLog is what runall's hearing of changes
// costs the simulations: the CPU per 4 KiB write(2) (aloha writes its
// results in about 1,200 of them a run) into a results directory runall
// watches, less the same writes into one nobody watches, interleaved.
// With IN_MODIFY on the directory's watch the kernel made and merged an
// event at every write: 280-380 ns each here (20-75 ns without, noise),
// about 14 ms of a 42-run aloha sweep's 3 s of CPU.
func BenchmarkWritesBelowTheChangeLog(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 4096)
	const writes = 5000
	writeFile := func(dir string) time.Duration {
		f, err := os.Create(filepath.Join(dir, "x.vec"))
		if err != nil {
			b.Fatal(err)
		}
		before := threadCPU()
		for range writes {
			if _, err := f.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		took := threadCPU() - before
		f.Close()
		return took
	}
	watched, plain := b.TempDir(), b.TempDir()
	cl := watchChanges(watched, filepath.Join(watched, ".simswarm"))
	if cl == nil {
		b.Skip("no inotify")
	}
	defer cl.close()
	var extra time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		extra += writeFile(watched) - writeFile(plain)
		cl.changed()
	}
	b.ReportMetric(float64(extra.Nanoseconds())/float64(b.N*writes), "extra-ns/write")
}
