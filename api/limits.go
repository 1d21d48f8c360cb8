package api

// Size limits that keep every input bounded in time and memory.
const (
	// MaxManifestBytes bounds one manifest file or request body.
	MaxManifestBytes = 1 << 20
	// MaxRuns bounds the runs of one campaign: a run filter or an ini sweep
	// that selects more is refused rather than expanded.
	MaxRuns = 1_000_000
	// MaxRunNumber is the largest run number (opp_run's run numbers are C
	// ints).
	MaxRunNumber = 1<<31 - 1
	// MaxNodeSlots bounds the runner slots of one node: the stack
	// publishes no more (a cpuReservation of 0.001 would ask 1,000 per
	// CPU), and runners and the controller read no more from Redis.
	MaxNodeSlots = 4096
)
