// Package peakrss measures the peak resident memory of one piece of work
// by doing it in a child process of the test binary, where nothing else
// the test did (servers, fixtures, earlier tests) counts.
//
//	func TestBigThing(t *testing.T) {
//		if peakrss.InChild() {
//			doTheWork(t, os.Getenv("MONGO_URI"))
//			peakrss.Report(t)
//			return
//		}
//		peak := peakrss.Run(t, "MONGO_URI="+uri) // bytes
//		if peak > bound { t.Errorf(...) }
//	}
//
// Run re-runs the calling test, alone, in a fresh process of the same
// binary with the given environment added; the child does the work and
// Report prints its own VmHWM (the kernel's high-water mark of resident
// memory, kept per address space, so it starts afresh at exec; the rusage
// of a child started by vfork+exec would instead carry the parent's).
//
// Guarantees: Run fails the test if the child fails or reports no figure,
// with the child's output; the figure is the child's own peak, not that of
// processes it starts (a build command, a simulation).
package peakrss
