package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// profileEnv names a directory to write a CPU profile of this process into
// (<dir>/simswarm-<first argument>-<pid>.pprof, written when the command
// returns) and one of its allocations (the same name, .allocs.pprof), for
// finding simswarm's own costs (test/bench/throughput.sh PROFILE=dir).
// Unset: no profile, no cost.
const profileEnv = "SIMSWARM_CPU_PROFILE_DIR"

// startProfile starts the CPU profile profileEnv asks for and returns what
// ends it; a profile that cannot be started is said on stderr and skipped.
func startProfile(args []string) (stop func()) {
	dir := os.Getenv(profileEnv)
	if dir == "" {
		return func() {}
	}
	name := "simswarm"
	if len(args) > 1 {
		name += "-" + filepath.Base(args[1])
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))
	f, err := os.Create(base + ".pprof")
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: no CPU profile: %v\n", profileEnv, err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		a, err := os.Create(base + ".allocs.pprof")
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(a, 0)
			if cerr := a.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: no allocation profile: %v\n", profileEnv, err)
		}
	}
}
