package campaign

import (
	"slices"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/internal/textutil"
)

// Observed is what one pass saw of a campaign and its surroundings.
type Observed struct {
	Generation int64
	Spec       api.CampaignSpec
	Status     api.CampaignStatus // as stored
	// SpecErr is set when the spec is invalid or cannot be expanded
	// (terminal).
	SpecErr error
	// Expanded is the number of runs the spec selects; -1 while unknown
	// (e.g. the ini is only readable after the build).
	Expanded int
	// Requested is how many runs a spec.simulation.runs of run numbers
	// names while Expanded is unknown (the status counts them pending; no
	// record is created before the program lists which runs exist).
	Requested int
	Counts    api.RunCounts
	// CountsFresh: Counts were just counted, not taken from the cache.
	CountsFresh bool
	BuildKey    string
	Build       *schema.BuildRecord // nil: no record
	// BuildTaskQueued: a build task for BuildKey is in the queue.
	BuildTaskQueued bool
	// Inflight is the number of this campaign's run tasks in the queue
	// (pending, active, scheduled, retry); Active, of those, the ones a
	// worker is running. Their run records say Pending until the outcome.
	Inflight, Active int
	// Pool is the dispatch window as this campaign sees it.
	Pool Pool
	// Durations is what the campaign's succeeded runs took (batch sizes).
	Durations runDurations
	// Retryable are Failed runs with attempts left (read on a fresh count
	// with failures only, at most retryPerPass).
	Retryable []schema.RunRecord
	// Failure is the latest failure of a worker this pass saw (nil: none):
	// a failed run attempt sent back to Pending, a task the queue retries.
	Failure *Failure
	// SourceRevision is the git commit of the manifest that declared the
	// campaign (GitOps), from AnnotationSourceRevision.
	SourceRevision string
	// Stop is what the stop rule needs (spec.stop; nil without a rule, or
	// while the runs' iteration variables are not known).
	Stop *StopObservation
	Now  time.Time
}

// AnnotationSourceRevision carries the applied commit of a GitOps source;
// the reconciler records it in status.sourceRevision.
const AnnotationSourceRevision = "simswarm.io/source-revision"

// Desired is what the pass should do, and the status to record.
type Desired struct {
	Status api.CampaignStatus
	// CreateRuns: create (more) run records.
	CreateRuns bool
	// StartBuild: create the BuildRecord (if missing) and enqueue the build.
	StartBuild bool
	// Dispatch is how many Pending runs to enqueue now.
	Dispatch int
	// DispatchCreated is how many of the records this pass creates to
	// enqueue once they exist: the window Dispatch leaves, which records
	// not created yet could not fill (a campaign's first runs go out in
	// the pass that creates their records, not one pass later).
	DispatchCreated int
	// Unqueue: remove this campaign's queued (not yet active) tasks.
	Unqueue bool
	// Retry are the IDs of Failed runs to send back to Pending.
	Retry []string
	// Demand is how many runs the campaign could have queued or running
	// now (its claim on the dispatch window); BatchSize how many runs one
	// of its tasks carries.
	Demand, BatchSize int
	// Requeue: look again after this long (0 = only on events/resync).
	Requeue time.Duration
	// Stop is the stop rule's plan (nil without a rule): the runs to skip,
	// and the only runs a dispatch may send, in their order.
	Stop *StopPlan
}

// Reasons of conditions.
const (
	ReasonInvalidSpec   = "InvalidSpec"
	ReasonBuilding      = "Building"
	ReasonBuildFailed   = "BuildFailed"
	ReasonRunning       = "Running"
	ReasonSucceeded     = "Succeeded"
	ReasonRunsFailed    = "RunsFailed"
	ReasonSuspended     = "Suspended"
	ReasonCreatingRuns  = "CreatingRuns"
	ReasonWaitingBuild  = "WaitingForBuild"
	ReasonWaitingWindow = "WaitingForCapacity"
	ReasonListingRuns   = "ListingRuns"
	// Reasons of the Degraded condition.
	ReasonAttemptFailed = "AttemptFailed"
	ReasonTaskRetrying  = "TaskRetrying"
	ReasonBuildRetrying = "BuildRetrying"
	// Reasons of a pass that failed and is retried: Reconciling says
	// ReasonRetrying, Ready the error's reason.
	ReasonRetrying         = api.ReasonProgressingWithRetry
	ReasonQueueUnavailable = "QueueUnavailable"
	ReasonReconcileFailed  = "ReconcileFailed"
)

// poll is how often an active campaign is looked at again (run records are
// written by workers; there is no change stream to watch).
const poll = time.Second

// Compute derives the actions and status from an observation. Pure: the
// whole policy of a pass is here (what to retry, the campaign's demand
// and its share of the window, the batch size, when it is finished), and
// the pass only observes before and applies after.
func Compute(o Observed) Desired {
	d := Desired{}
	buildDone := o.Build != nil && o.Build.State == schema.BuildSucceeded
	counts := o.Counts
	// Failed runs with attempts left go back to Pending (not while
	// suspended); the latest of them is what Degraded says.
	failure := o.Failure
	d.Stop = stopPlan(&o, buildDone, &counts)
	if buildDone && !o.Spec.Suspend && len(o.Retryable) > 0 {
		latest := o.Retryable[0]
		for _, f := range o.Retryable {
			d.Retry = append(d.Retry, f.ID)
			if f.UpdatedAt.After(latest.UpdatedAt) {
				latest = f
			}
		}
		failure = attemptFailed(latest)
		n := int64(len(d.Retry))
		counts.Failed, counts.Pending = counts.Failed-n, counts.Pending+n
	}
	// The campaign's demand: runs not finished (records not created yet
	// included), capped by its parallelism; none while suspended or before
	// its build. Its window is what campaigns before it leave of that,
	// widened for batches.
	if buildDone && !o.Spec.Suspend && o.SpecErr == nil {
		d.Demand = int(counts.Pending + counts.Queued + counts.Running)
		if o.Expanded > int(counts.Total) {
			d.Demand += o.Expanded - int(counts.Total)
		}
		if p := int(o.Spec.Parallelism); p > 0 && d.Demand > p {
			d.Demand = p
		}
		d.Demand = stopDemand(o, d.Stop, d.Demand)
	}
	window := o.Pool.share(d.Demand)
	d.BatchSize = batchSize(o.Durations, int(counts.Pending)+max(o.Expanded-int(counts.Total), 0), o.Pool.Slots)
	window = batchWindow(window, o.Pool.Total, d.Demand, d.BatchSize, o.Pool.Slots)

	st := o.Status
	// A copy: the conditions are set in place, and the stored status is
	// what tells whether anything changed.
	st.Conditions = slices.Clone(o.Status.Conditions)
	st.ObservedGeneration = o.Generation
	st.SourceRevision = o.SourceRevision
	st.Runs = inFlight(counts, o.Inflight, o.Active)
	st.Points = stopPoints(o, d.Stop)
	// Records that are Pending and not in the queue.
	waiting := st.Runs.Pending
	if o.Expanded >= 0 && int64(o.Expanded) > st.Runs.Total {
		// Records are created lazily: the rest are pending.
		st.Runs.Pending += int64(o.Expanded) - st.Runs.Total
		st.Runs.Total = int64(o.Expanded)
	} else if o.Expanded < 0 && int64(o.Requested) > st.Runs.Total {
		st.Runs.Pending += int64(o.Requested) - st.Runs.Total
		st.Runs.Total = int64(o.Requested)
	}
	if st.StartTime == nil {
		t := o.Now
		st.StartTime = &t
	}
	set := func(phase string, sum summary, reason, msg string) {
		st.Phase = phase
		st.Conditions = summarize(st.Conditions, sum, reason, msg, o.Generation, o.Now)
	}
	T, F := api.ConditionTrue, api.ConditionFalse

	if o.SpecErr != nil {
		set(api.PhaseFailed, stalled, ReasonInvalidSpec, o.SpecErr.Error())
		st.CompletionTime = nil
		return Desired{Status: st, Unqueue: true}
	}

	st.Build.Key = o.BuildKey
	switch {
	case o.Build == nil:
		st.Build.Phase = schema.BuildPending
	default:
		st.Build.Phase = o.Build.State
	}
	if buildDone && o.Status.Build.Phase == "" {
		st.Build.CacheHit = true // it was there before this campaign asked
	}

	d.CreateRuns = o.Expanded > 0 && counts.Total < int64(o.Expanded)
	// Finished only on a fresh count: a cached one may miss what workers
	// did since, and a campaign declared finished is not looked at again.
	finished := o.Expanded >= 0 && !d.CreateRuns && o.CountsFresh && stopSettled(d.Stop) &&
		counts.Succeeded+counts.Failed+counts.Skipped == counts.Total && counts.Total > 0 || o.Expanded == 0

	switch {
	case o.Build != nil && o.Build.State == schema.BuildFailed:
		msg := "build failed"
		if o.Build.LogTail != "" {
			msg += ": " + textutil.LastLines(o.Build.LogTail, 1)
		}
		st.Build.Message = msg
		// Nothing will run them: they are not pending but blocked.
		st.Runs.Blocked, st.Runs.Pending = st.Runs.Pending+st.Runs.Queued, 0
		st.Runs.Queued = 0
		if st.Runs.Blocked > 0 {
			msg += "; " + textutil.Plural(st.Runs.Blocked, "run") + " blocked"
		}
		set(api.PhaseFailed, stalled, ReasonBuildFailed, msg)
		d.Unqueue = true
		d.CreateRuns = false
	case finished:
		// Failed runs with attempts left are retried above, so Failed here
		// are exhausted.
		if counts.Failed > 0 {
			set(api.PhaseFailed, stalled, ReasonRunsFailed, textutil.Plural(counts.Failed, "run")+" failed")
		} else {
			set(api.PhaseSucceeded, ready, ReasonSucceeded, textutil.Plural(counts.Succeeded, "run")+" succeeded"+stopSummary(counts, st.Points))
		}
		if st.CompletionTime == nil {
			t := o.Now
			st.CompletionTime = &t
		}
	case o.Spec.Suspend:
		set(api.PhaseSuspended, idle, ReasonSuspended, "dispatch suspended")
		d.Unqueue = true
		d.CreateRuns = false
		st.CompletionTime = nil
	case !buildDone:
		d.StartBuild = o.Build == nil || !o.BuildTaskQueued && o.Build.State == schema.BuildPending
		set(api.PhaseBuilding, progressing, ReasonBuilding, "building "+textutil.Prefix(o.BuildKey, 12))
		d.Requeue = poll
		st.CompletionTime = nil
	default:
		st.CompletionTime = nil
		d.Dispatch = window - o.Inflight
		if d.Dispatch < 0 {
			d.Dispatch = 0
		}
		if int64(d.Dispatch) > waiting {
			// Records not created yet can't be dispatched before they are.
			if d.CreateRuns {
				d.DispatchCreated = d.Dispatch - int(waiting)
			}
			d.Dispatch = int(waiting)
		}
		reason, msg := ReasonRunning, "running"+stopSummary(counts, st.Points)
		if d.Stop == nil && o.Spec.Stop != nil {
			// The points are not known yet: nothing is dispatched.
			d.Dispatch, d.DispatchCreated = 0, 0
			reason, msg = ReasonListingRuns, "listing the runs' iteration variables for the stop rule"
		}
		if d.CreateRuns {
			reason, msg = ReasonCreatingRuns, "creating run records"
		} else if window == 0 && o.Inflight == 0 && d.Demand > 0 {
			reason, msg = ReasonWaitingWindow, "waiting for capacity (higher-priority campaigns)"
		}
		set(api.PhaseRunning, progressing, reason, msg)
		d.Requeue = poll
		if d.CreateRuns {
			d.Requeue = time.Millisecond
		}
	}
	switch {
	case st.Phase == api.PhaseSucceeded:
		if findCondition(st.Conditions, api.ConditionDegraded) != nil {
			st.Conditions = setCondition(st.Conditions, api.ConditionDegraded, F, ReasonSucceeded,
				"every run succeeded in the end", o.Generation, o.Now)
		}
	case failure != nil:
		st.Conditions = setCondition(st.Conditions, api.ConditionDegraded, T, failure.Reason, failure.Message,
			o.Generation, o.Now)
	}
	if o.Expanded < 0 && buildDone {
		d.Requeue = poll
	}
	d.Status = st
	return d
}

// inFlight moves the runs whose tasks are in the queue from the records'
// Pending to Queued, and those a worker runs to Running (records are not
// written when a run is dispatched or started).
func inFlight(c api.RunCounts, inflight, active int) api.RunCounts {
	moved := min(int64(inflight), c.Pending)
	running := min(int64(active), moved)
	c.Pending -= moved
	c.Running += running
	c.Queued += moved - running
	return c
}
