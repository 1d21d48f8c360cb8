package local

import (
	"strconv"
	"time"
)

// Plan is everything Execute needs: what to run, where, and which files to
// keep. Prepare builds one from a Campaign; runall builds one from a
// command line.
type Plan struct {
	// Name keys the completion records (campaign name, or the config for
	// runall), so that two campaigns can share a results directory.
	Name string
	// Args is the simulation's command line without a run filter, as
	// oppcli.Invocation.BatchArgs gives it; Execute appends "-r RUNS" per
	// process. Dir is its working directory.
	Args []string
	Dir  string
	Env  []string // nil: inherit
	// Config is the ini config the runs belong to: result files say which
	// config and run wrote them, and only the plan's own are collected.
	Config string
	// Identities name each run by what determines its result (Resolve):
	// a run is skipped when a record of its identity is intact, whatever
	// run number made it. Without them (nil), a run's identity is Key and
	// its number.
	Identities map[int]string
	// Inputs, when set (Resolved.Inputs), are the files the identities were
	// computed from that every process reads as it starts: once one of
	// them changes (an ini edited, the program rebuilt during the sweep),
	// Execute starts no more processes and fails the runs not started,
	// which would simulate something other than their identities say.
	Inputs *Stamps
	Key    string
	Runs   []int
	// BatchSize is how many runs one process executes (opp_runall -b);
	// 0 picks opp_runall's default, min(5, ceil(runs / jobs)), shrinking
	// towards the end of the sweep so that the slots finish together
	// (BatchSizes).
	BatchSize int
	Timeout   time.Duration
	Retries   int
	// Results are glob patterns relative to Dir of the files a run leaves;
	// they are moved into the results directory under their path below
	// the glob's leading directories (results/*/*.sca: Cfg/x.sca). Nil
	// means that the program writes straight into the results directory
	// (runall: its own result-dir), where the files stay.
	Results []string
}

// DefaultBatchSize is opp_runall's batch size for runs spread over jobs
// slots: min(5, ceil(runs / jobs)), at least 1.
func DefaultBatchSize(runs, jobs int) int {
	jobs = max(jobs, 1)
	return max(1, min(5, (runs+jobs-1)/jobs))
}

// identity is run's identity.
func (p *Plan) identity(run int) string {
	if p.Identities != nil {
		return p.Identities[run]
	}
	return p.Key + "#" + strconv.Itoa(run)
}
