package local

import (
	"time"
)

// Plan is everything Execute needs: what to run, where, and which files to
// keep. Prepare builds one from a Campaign; runall builds one from a
// command line.
type Plan struct {
	// Name keys the completion records (campaign name, or the config for
	// runall), so that two campaigns can share a results directory.
	Name string
	// Program is the simulation's argv prefix, Dir its working directory.
	Program []string
	Dir     string
	Env     []string // nil: inherit
	IniFile string
	Config  string
	Runs    []int
	// BatchSize is how many runs one process executes (opp_runall -b).
	BatchSize int
	Timeout   time.Duration
	Retries   int
	// Results are glob patterns relative to a run's working directory,
	// where "results/" is the run's private result directory.
	Results []string
}
