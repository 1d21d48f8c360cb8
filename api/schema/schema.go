package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/internal/textutil"
)

// Task types and queues (asynq).
const (
	TypeBuild  = "simswarm:build"
	TypeRun    = "simswarm:run"
	QueueBuild = "build"
	QueueRun   = "run"
)

// TaskActive is the state a listing of the queue gives a run task whose
// simulation a worker runs (asynq's active, with the TaskStarted result);
// any other live state means waiting. Run records say Pending until the
// outcome, so this is what tells a running run from a queued one.
const TaskActive = "active"

// TaskHeld is the listing state of a run task a runner holds (asynq's
// active) but has not started: prefetched, it waits for a simulation
// slot. It counts as queued.
const TaskHeld = "held"

// TaskStarted is the result a runner writes on its run task (asynq's
// ResultWriter) when the simulation takes a slot: an active task without
// it is held, not running.
const TaskStarted = "started"

// MongoDB collections (database = path of the mongodb:// URI, default
// "simswarm") and GridFS buckets.
const (
	CollCampaigns = "campaigns"
	CollRuns      = "runs"
	CollBuilds    = "builds"
	// CollCompletions holds one Completion per succeeded run, keyed by the
	// run's _id: the insert that wins decides which attempt's results stay.
	CollCompletions = "completions"
	BucketSources   = "sources"
	BucketArtifacts = "artifacts"
	BucketResults   = "results"
)

// BuildTask asks a builder to build Source with Build and store the
// artifact under Key.
type BuildTask struct {
	Campaign string         `json:"campaign"`
	UID      string         `json:"uid"`
	Key      string         `json:"key"`
	Source   api.SourceSpec `json:"source"`
	Build    api.BuildSpec  `json:"build"`
	// Simulation, when set, asks the builder to list the campaign's runs
	// with the built program (package runlist) once the build succeeded,
	// or from the stored artifact when it had already.
	Simulation *api.SimulationSpec `json:"simulation,omitempty"`
}

// RunTask asks a runner to execute one run with the artifact ArtifactKey,
// or with Runs several runs of the campaign (a batch, see Items).
type RunTask struct {
	Campaign    string             `json:"campaign"`
	UID         string             `json:"uid"`
	Run         int                `json:"run"`
	ArtifactKey string             `json:"artifactKey"`
	Simulation  api.SimulationSpec `json:"simulation"`
	Results     []string           `json:"results"`
	Timeout     api.Duration       `json:"timeout"`
	// Attempt is how many attempts the run's record counted when the task
	// was sent (0 for a first dispatch); the runner numbers its attempt
	// from it without reading the record.
	Attempt int `json:"attempt"`
	// Runs, when it holds more than one run, makes the task a batch: the
	// runner executes them in one process (opp_run -r a,b,c) and records
	// each run's outcome on its own. Attempts[i] is Runs[i]'s Attempt;
	// Run and Attempt are then those of Runs[0].
	Runs     []int `json:"runs,omitempty"`
	Attempts []int `json:"attempts,omitempty"`
}

// Marshal encodes a task payload.
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// RunTaskID is the asynq task ID of one attempt of a run.
func RunTaskID(campaign, uid string, run, attempt int) string {
	return fmt.Sprintf("run:%s:%s:%d:%d", campaign, textutil.Prefix(uid, 8), run, attempt)
}

// BuildTaskID is the asynq task ID of the build of key.
func BuildTaskID(key string) string { return "build:" + textutil.Prefix(key, 16) }

// BuildKey is the content key of a build: the source digest (archive
// sha256 or git URL@commit), the build recipe and the toolchain image.
func BuildKey(sourceDigest string, b api.BuildSpec) string {
	recipe, _ := json.Marshal(struct {
		Command   []string          `json:"command"`
		Env       map[string]string `json:"env"`
		Artifacts []string          `json:"artifacts"`
		Image     string            `json:"image"`
		Prebuilt  bool              `json:"prebuilt,omitempty"` // omitted: the keys of builds stay as they were
	}{b.Command, b.Env, b.Artifacts, b.Image, b.Prebuilt})
	h := sha256.New()
	h.Write([]byte(sourceDigest))
	h.Write([]byte{0})
	h.Write(recipe)
	return hex.EncodeToString(h.Sum(nil))
}

// Run states.
const (
	RunPending   = "Pending"
	RunQueued    = "Queued"
	RunRunning   = "Running"
	RunSucceeded = "Succeeded"
	RunFailed    = "Failed"
	// RunSkipped: a stop rule did not need the run (its point's interval
	// met the rule first). Final, like Succeeded and Failed: never
	// dispatched, retried or failed afterwards.
	RunSkipped = "Skipped"
)

// RunRecord is one run of a campaign (collection runs, _id
// "<campaign>/<uid>/<run>").
type RunRecord struct {
	ID         string       `bson:"_id" json:"id"`
	Campaign   string       `bson:"campaign" json:"campaign"`
	UID        string       `bson:"uid" json:"uid"`
	Run        int          `bson:"run" json:"run"`
	State      string       `bson:"state" json:"state"`
	Attempts   int          `bson:"attempts" json:"attempts"`
	Worker     string       `bson:"worker,omitempty" json:"worker,omitempty"`
	ExitCode   int          `bson:"exitCode" json:"exitCode"`
	StderrTail string       `bson:"stderrTail,omitempty" json:"stderrTail,omitempty"`
	DurationMS int64        `bson:"durationMs" json:"durationMs"`
	CPUMS      int64        `bson:"cpuMs" json:"cpuMs"`
	Files      []ResultFile `bson:"files,omitempty" json:"files,omitempty"`
	Message    string       `bson:"message,omitempty" json:"message,omitempty"`
	// FailureKinds are the distinct ways the run's attempts failed (exit
	// status or timeout, and the program's "<!> Error" lines): one kind
	// over several attempts is a deterministic failure that retries will
	// not cure.
	FailureKinds []string   `bson:"failureKinds,omitempty" json:"failureKinds,omitempty"`
	UpdatedAt    time.Time  `bson:"updatedAt" json:"updatedAt"`
	StartedAt    *time.Time `bson:"startedAt,omitempty" json:"startedAt,omitempty"`
	FinishedAt   *time.Time `bson:"finishedAt,omitempty" json:"finishedAt,omitempty"`
	// ResultIndex is what the result index holds of a stored run (package
	// resultindex), or why its .sca could not be indexed; nil for a run
	// not indexed.
	ResultIndex *IndexSummary `bson:"resultIndex,omitempty" json:"resultIndex,omitempty"`
	// Identity is what determines the run's result (package
	// runidentity), when the build's run list has it; indexed, so that a
	// later campaign finds the run to reuse it.
	Identity string `bson:"identity,omitempty" json:"identity,omitempty"`
	// ReusedFrom names the stored run whose results this run took
	// (copies of its files) instead of running.
	ReusedFrom *ReusedFrom `bson:"reusedFrom,omitempty" json:"reusedFrom,omitempty"`
}

// ReusedFrom names the run a reused run's results come from.
type ReusedFrom struct {
	Campaign string `bson:"campaign" json:"campaign"`
	UID      string `bson:"uid" json:"uid"`
	Run      int    `bson:"run" json:"run"`
}

// IndexSummary is a run's result index in brief: the values indexed, the
// records of unknown types skipped, and what kept a .sca (or the index
// write) from being indexed.
type IndexSummary struct {
	Values  int    `bson:"values" json:"values"`
	Skipped int    `bson:"skipped,omitempty" json:"skipped,omitempty"`
	Error   string `bson:"error,omitempty" json:"error,omitempty"`
}

// ResultFile is one stored result file of a run (GridFS bucket results,
// filename "<campaign>/<uid>/<run>/<name>").
type ResultFile struct {
	Name   string `bson:"name" json:"name"`
	Size   int64  `bson:"size" json:"size"`
	SHA256 string `bson:"sha256" json:"sha256"`
	FileID any    `bson:"fileId" json:"fileId"`
}

// Completion is the outcome of the attempt whose results a run keeps. Its
// _id is the run's: inserting it can succeed once, so of concurrent or
// late attempts exactly one stores its results (a unique-key insert needs
// no transaction and is an index lookup on every MongoDB-wire server,
// where a conditional update on the run record is not: FerretDB's SQLite
// backend scans the collection for any filter but a lone _id). The run
// record is then set from it, and set again by whoever finds it there.
type Completion struct {
	ID         string       `bson:"_id"`
	Campaign   string       `bson:"campaign"`
	UID        string       `bson:"uid"`
	Attempt    int          `bson:"attempt"`
	Worker     string       `bson:"worker"`
	Files      []ResultFile `bson:"files"`
	StderrTail string       `bson:"stderrTail,omitempty"`
	DurationMS int64        `bson:"durationMs"`
	CPUMS      int64        `bson:"cpuMs"`
	StartedAt  time.Time    `bson:"startedAt"`
	FinishedAt time.Time    `bson:"finishedAt"`
}

// RecordFields are the run record fields ($set) that say the run
// succeeded with this completion.
func (c *Completion) RecordFields() map[string]any {
	f := map[string]any{"state": RunSucceeded, "attempts": c.Attempt, "files": c.Files, "exitCode": 0,
		"stderrTail": c.StderrTail, "durationMs": c.DurationMS, "cpuMs": c.CPUMS, "message": "",
		"finishedAt": c.FinishedAt, "updatedAt": c.FinishedAt, "worker": c.Worker}
	if !c.StartedAt.IsZero() {
		f["startedAt"] = c.StartedAt
	}
	return f
}

// Build states.
const (
	BuildPending   = "Pending"
	BuildRunning   = "Running"
	BuildSucceeded = "Succeeded"
	BuildFailed    = "Failed"
)

// BuildRecord is one build (collection builds, _id = key).
type BuildRecord struct {
	Key        string    `bson:"_id" json:"key"`
	State      string    `bson:"state" json:"state"`
	ArtifactID any       `bson:"artifactId,omitempty" json:"artifactId,omitempty"`
	Size       int64     `bson:"size" json:"size"`
	SHA256     string    `bson:"sha256,omitempty" json:"sha256,omitempty"`
	LogTail    string    `bson:"logTail,omitempty" json:"logTail,omitempty"`
	Worker     string    `bson:"worker,omitempty" json:"worker,omitempty"`
	UpdatedAt  time.Time `bson:"updatedAt" json:"updatedAt"`
	DurationMS int64     `bson:"durationMs" json:"durationMs"`
	// ModelKey names the model the build made, for run identities
	// (package runidentity): its source without ini files, recipe and
	// toolchain image; builds differing only in ini files share it.
	ModelKey string `bson:"modelKey,omitempty" json:"modelKey,omitempty"`
}
