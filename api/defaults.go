package api

import "time"

// Defaults of the Campaign kind.
const (
	DefaultTimeout    = time.Hour
	DefaultRetries    = 2
	DefaultWorkingDir = "."
	DefaultIniFile    = "omnetpp.ini"
	DefaultConfig     = "General"
)

// DefaultResults are the result globs of a campaign that names none: what
// OMNeT++ writes into results/, with the .out files of runs whose output
// is redirected there (as opp_runall and simswarm run do).
func DefaultResults() []string {
	return []string{"results/*.sca", "results/*.vec", "results/*.vci", "results/*.out"}
}

// SetDefaults fills what the user left out. It is separate from decoding
// and validation, idempotent, and never overwrites a value the user gave:
// an explicitly empty list (command: []) stays empty so that Validate can
// report it.
func SetDefaults(c *Campaign) {
	if c == nil {
		return
	}
	setString(&c.APIVersion, APIVersion)
	setString(&c.Kind, KindCampaign)
	sp := &c.Spec
	if sp.Results == nil {
		sp.Results = DefaultResults()
	}
	if sp.Timeout.Duration == 0 {
		sp.Timeout.Duration = DefaultTimeout
	}
	if sp.Retries == nil {
		r := int32(DefaultRetries)
		sp.Retries = &r
	}
	if sp.Build.Command == nil && !sp.Build.Prebuilt {
		sp.Build.Command = []string{"make"}
	}
	if sp.Build.Artifacts == nil {
		sp.Build.Artifacts = []string{"."}
	}
	setString(&sp.Simulation.WorkingDir, DefaultWorkingDir)
	setString(&sp.Simulation.IniFile, DefaultIniFile)
	setString(&sp.Simulation.Config, DefaultConfig)
	if st := sp.Stop; st != nil {
		if st.Confidence == 0 {
			st.Confidence = DefaultStopConfidence
		}
		if st.MinRepetitions == 0 {
			st.MinRepetitions = DefaultStopMinRepetitions
		}
	}
}
