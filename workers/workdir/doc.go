// Package workdir gives a worker process a work directory of its own under
// a base that other worker processes on the host may share (the --cache of
// two runners), and clears what dead owners left there.
//
//	d, stale, err := workdir.Claim(filepath.Join(cache, "runs"))
//	defer d.Release()
//	runDir, err := os.MkdirTemp(d.Path, "run-")
//
// Guarantees: the directory is held by an flock for the life of the
// process (the kernel drops it when the process dies, however it dies), so
// Claim removes only owner directories whose owner is gone, never a live
// sibling's. Before removing one it SIGKILLs the processes still working
// inside it (a simulation's children, which the parent-death signal does
// not reach). Only directories named like the ones Claim makes are touched.
package workdir
