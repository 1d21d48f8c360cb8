package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Group and version of every simswarm kind.
const (
	Group        = "simswarm.io"
	Version      = "v1alpha1"
	APIVersion   = Group + "/" + Version
	KindCampaign = "Campaign"
)

// TypeMeta names the kind of a manifest.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// ObjectMeta is the metadata every stored object carries. Generation and
// ResourceVersion are set by the controller, never by users.
type ObjectMeta struct {
	Name              string            `json:"name"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	UID               string            `json:"uid,omitempty"`
	Generation        int64             `json:"generation,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	CreationTimestamp *time.Time        `json:"creationTimestamp,omitempty"`
	DeletionTimestamp *time.Time        `json:"deletionTimestamp,omitempty"`
}

// Campaign is one build of a simulation model followed by a sweep of
// independent runs whose result files the user wants back.
type Campaign struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta     `json:"metadata"`
	Spec     CampaignSpec   `json:"spec"`
	Status   CampaignStatus `json:"status,omitempty"`
}

// CampaignSpec is what the user asks for.
type CampaignSpec struct {
	Source     SourceSpec     `json:"source"`
	Build      BuildSpec      `json:"build,omitempty"`
	Simulation SimulationSpec `json:"simulation"`
	// Results are glob patterns, relative to the simulation's working
	// directory, of the files each run produces; files keep their path
	// below the glob's leading directories (results/*/*.sca: Cfg/x.sca).
	// Default: results/*.sca, results/*.vec, results/*.vci, results/*.out.
	Results []string `json:"results,omitempty"`
	// Timeout bounds one run's wall time. Default 1h.
	Timeout Duration `json:"timeout,omitzero"`
	// Retries is how many times a failed run is tried again. Default 2.
	Retries *int32 `json:"retries,omitempty"`
	// Parallelism bounds how many runs of this campaign execute at once
	// (local slots; in a cluster, the campaign's share of runners). 0 = all
	// available.
	Parallelism int32 `json:"parallelism,omitempty"`
	// Priority shares worker capacity between campaigns: higher goes first.
	Priority int32 `json:"priority,omitempty"`
	// Suspend stops dispatching new runs; running ones finish.
	Suspend bool `json:"suspend,omitempty"`
	// Stop, when set, stops repeating a parameter point once its
	// confidence interval of Stop.Scalar is narrow enough (stop rule).
	Stop *StopRule `json:"stop,omitempty"`
	// Reuse, unless false, takes the results of runs stored runs already
	// did - the same run of the same model, command line and resolved
	// configuration, by any campaign - instead of running them again
	// (their files are copied). Default true.
	Reuse *bool `json:"reuse,omitempty"`
}

// SourceSpec says where the model's source comes from: exactly one of Path
// or Git. Archive is filled in by `simswarm apply` when it uploads Path.
type SourceSpec struct {
	// Path is a local directory, relative to the manifest file.
	Path string `json:"path,omitempty"`
	// Git is a repository at a fixed commit.
	Git *GitSource `json:"git,omitempty"`
	// Archive is the sha256 of an uploaded source archive (set by apply).
	Archive string `json:"archive,omitempty"`
}

// GitSource is a git repository at a commit (or ref).
type GitSource struct {
	URL    string `json:"url"`
	Commit string `json:"commit"`
}

// BuildSpec says how to build the model once per campaign.
type BuildSpec struct {
	// Image is the toolchain image used by builders and runners in a
	// cluster (e.g. an OMNeT++ image). Ignored by the local executor.
	Image string `json:"image,omitempty"`
	// Command is the build's argv, run in the source root. Default
	// ["make"]; parallelism reaches make through MAKEFLAGS=-jN and the
	// compiler through CC (distcc in a cluster).
	Command []string `json:"command,omitempty"`
	// Env adds environment variables to the build.
	Env map[string]string `json:"env,omitempty"`
	// Artifacts are paths relative to the source root that runs need
	// (files or directories). Default ["."]: the whole built tree.
	Artifacts []string `json:"artifacts,omitempty"`
	// Prebuilt says the source already holds the built model: no build
	// command runs (command must be left out), the artifacts are stored as
	// they are.
	Prebuilt bool `json:"prebuilt,omitempty"`
}

// SimulationSpec says how to run one run of the model, following OMNeT++'s
// command-line contract: program args... -u Cmdenv -f INI -c CONFIG -r N.
type SimulationSpec struct {
	// WorkingDir is where runs start, relative to the source root, and it
	// must lie in the build's artifacts: on workers the runs start in it
	// inside the unpacked artifacts, so a model that needs a framework's
	// tree (NED files and library) ships only what the artifacts name,
	// e.g. artifacts [src/libINET.so, src, examples/ethernet] and
	// workingDir examples/ethernet/lans. Default ".".
	WorkingDir string `json:"workingDir,omitempty"`
	// Program is the argv prefix, e.g. ["./aloha"] or
	// ["opp_run", "-l", "../src/INET"].
	Program []string `json:"program"`
	// IniFile is relative to WorkingDir. Default omnetpp.ini.
	IniFile string `json:"iniFile,omitempty"`
	// Config is the [Config NAME] section to run. Default General.
	Config string `json:"config,omitempty"`
	// Runs is a run filter in opp_run's -r syntax ("0..99", "1,5,8",
	// "0..9,20"); empty means every run that -q runnumbers reports.
	Runs string `json:"runs,omitempty"`
	// Env adds environment variables to each run.
	Env map[string]string `json:"env,omitempty"`
}

// Phases of a campaign.
const (
	PhasePending   = "Pending"
	PhaseBuilding  = "Building"
	PhaseRunning   = "Running"
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"
	PhaseSuspended = "Suspended"
	// PhaseDeleting: the campaign was deleted; its run records are being
	// removed in bounded batches (status.deletion tells how far).
	PhaseDeleting = "Deleting"
)

// CampaignStatus is what the controller observed, written only by it.
type CampaignStatus struct {
	Phase              string      `json:"phase,omitempty"`
	ObservedGeneration int64       `json:"observedGeneration,omitempty"`
	Conditions         []Condition `json:"conditions,omitempty"`
	Runs               RunCounts   `json:"runs,omitempty"`
	Build              BuildStatus `json:"build,omitempty"`
	// SourceRevision records the applied git commit (GitOps).
	SourceRevision string     `json:"sourceRevision,omitempty"`
	StartTime      *time.Time `json:"startTime,omitempty"`
	CompletionTime *time.Time `json:"completionTime,omitempty"`
	// Deletion reports a delete in progress (metadata.deletionTimestamp).
	Deletion *DeletionStatus `json:"deletion,omitempty"`
	// Points reports a stop rule's progress (nil without a rule).
	Points *PointsStatus `json:"points,omitempty"`
}

// DeletionStatus is the progress of a campaign's deletion.
type DeletionStatus struct {
	// Purge: the results go too; otherwise they are kept under the
	// campaign's uid (simswarm results list / prune).
	Purge bool `json:"purge,omitempty"`
	// RunsRemoved counts the run records removed so far, of Runs.Total.
	RunsRemoved int64 `json:"runsRemoved"`
}

// RunCounts counts a campaign's runs by state.
type RunCounts struct {
	Total     int64 `json:"total"`
	Pending   int64 `json:"pending"`
	Queued    int64 `json:"queued"`
	Running   int64 `json:"running"`
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	// Blocked are the runs that cannot run because the campaign's build
	// failed (counted instead of Pending).
	Blocked int64 `json:"blocked,omitempty"`
	// Skipped are the runs a stop rule did not need: their point's
	// interval met the rule before they were dispatched.
	Skipped int64 `json:"skipped,omitempty"`
	// Reused are the succeeded runs whose results were taken from a run
	// already stored (spec.reuse) instead of running them; they count in
	// Succeeded too.
	Reused int64 `json:"reused,omitempty"`
}

// BuildStatus reports the campaign's build.
type BuildStatus struct {
	// Key is the content key of the artifact: source digest + recipe +
	// toolchain image.
	Key      string `json:"key,omitempty"`
	Phase    string `json:"phase,omitempty"`
	CacheHit bool   `json:"cacheHit,omitempty"`
	Message  string `json:"message,omitempty"`
}

// Condition types and statuses.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionDegraded is True while the campaign works around failures
	// of its workers: the latest one (a failed run attempt that is
	// retried, a task the queue retries after a worker's error) is its
	// message. It turns False when the campaign succeeds.
	ConditionDegraded = "Degraded"
	// ReasonProgressingWithRetry is the reason of the Reconciling
	// condition while the controller's passes fail and are retried; Ready
	// then holds the error's reason and text.
	ReasonProgressingWithRetry = "ProgressingWithRetry"

	ConditionTrue    = "True"
	ConditionFalse   = "False"
	ConditionUnknown = "Unknown"
)

// Condition is one observed aspect of an object, as in Kubernetes.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	ObservedGeneration int64     `json:"observedGeneration,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// Duration is a time.Duration written as a string with a unit: "90s",
// "10m", "1h30m". A bare number (5, "5") is refused rather than guessed
// at (seconds? minutes?), and a manifest's durations must be positive
// (the decoder refuses 0s; leave the field out for its default).
type Duration struct{ time.Duration }

// IsZero reports an unset duration, left out when encoding (omitzero): a
// campaign sent before defaulting must not carry an explicit "0s".
func (d Duration) IsZero() bool { return d.Duration == 0 }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a Go duration string with a unit ("10m").
func (d *Duration) UnmarshalJSON(b []byte) error {
	const hint = "a duration is a string with a unit: 90s, 10m, 1h30m"
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if json.Unmarshal(b, &n) == nil {
			return fmt.Errorf("%s has no unit: write %q (%s)", n, n.String()+"s", hint)
		}
		return errors.New(hint)
	}
	// time.ParseDuration takes "0" without a unit; no other number.
	if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return fmt.Errorf("%q has no unit: write %q (%s)", s, strings.TrimSpace(s)+"s", hint)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (use e.g. 90s, 10m, 1h)", s)
	}
	d.Duration = v
	return nil
}
