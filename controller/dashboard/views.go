package dashboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// The views: one JSON document per page, computed from the campaign
// objects (whose status holds the reconciler's aggregated counts), the run
// index, Redis (queue depth, heartbeats) and the swarm observer. None of
// them reads the run records (the campaign page asks the queue which of its
// runs are in flight: their records say Pending). Each ends with its "at"
// (the time it was computed), which the live stream ignores when it looks
// for changes.

// CampaignSummary is one campaign as the dashboard lists it.
type CampaignSummary struct {
	Name        string        `json:"name"`
	UID         string        `json:"uid"`
	Phase       string        `json:"phase"`
	Suspended   bool          `json:"suspended"`
	Priority    int32         `json:"priority"`
	Parallelism int32         `json:"parallelism,omitempty"`
	Runs        api.RunCounts `json:"runs"`
	// Points is a stop rule's progress (nil without a rule).
	Points *api.PointsStatus `json:"points,omitempty"`
	// Progress is the finished fraction (succeeded + failed + skipped) /
	// total.
	Progress float64         `json:"progress"`
	Pace     Pace            `json:"pace"`
	Build    api.BuildStatus `json:"build"`
	// Reason and Message come from the Degraded condition while it is
	// True, else from the Ready condition (or the first).
	Reason         string          `json:"reason,omitempty"`
	Message        string          `json:"message,omitempty"`
	Conditions     []api.Condition `json:"conditions,omitempty"`
	Created        *time.Time      `json:"created,omitempty"`
	StartTime      *time.Time      `json:"startTime,omitempty"`
	CompletionTime *time.Time      `json:"completionTime,omitempty"`
	Generation     int64           `json:"generation"`
	Observed       int64           `json:"observedGeneration"`
}

// CampaignDetail adds what the campaign page shows of the spec.
type CampaignDetail struct {
	CampaignSummary
	Source     string   `json:"source"`
	Program    []string `json:"program"`
	Config     string   `json:"config,omitempty"`
	RunsFilter string   `json:"runsFilter,omitempty"`
	Timeout    string   `json:"timeout,omitempty"`
	Retries    *int32   `json:"retries,omitempty"`
}

// summarize lists c; its pace is measured at the snapshot's time (now
// without one).
func summarize(c *api.Campaign, snap *snapshot, now time.Time) CampaignSummary {
	st := c.Status
	s := CampaignSummary{Name: c.Metadata.Name, UID: c.Metadata.UID, Phase: st.Phase, Suspended: c.Spec.Suspend,
		Priority: c.Spec.Priority, Parallelism: c.Spec.Parallelism, Runs: st.Runs, Points: st.Points, Build: st.Build,
		Conditions: st.Conditions, Created: c.Metadata.CreationTimestamp, StartTime: st.StartTime,
		CompletionTime: st.CompletionTime, Generation: c.Metadata.Generation, Observed: st.ObservedGeneration}
	if s.Phase == "" {
		s.Phase = api.PhasePending
	}
	if c.Metadata.DeletionTimestamp != nil {
		s.Phase = api.PhaseDeleting // before the reconciler's first pass says so
	}
	if st.Runs.Total > 0 {
		s.Progress = float64(st.Runs.Succeeded+st.Runs.Failed+st.Runs.Skipped) / float64(st.Runs.Total)
	}
	for i, cond := range st.Conditions {
		if cond.Type == api.ConditionReady || i == 0 {
			s.Reason, s.Message = cond.Reason, cond.Message
		}
	}
	// While its workers fail, that is what the one line says.
	for _, cond := range st.Conditions {
		if cond.Type == api.ConditionDegraded && cond.Status == api.ConditionTrue {
			s.Reason, s.Message = cond.Reason, cond.Message
		}
	}
	at := now
	if snap != nil {
		at = snap.at
	}
	s.Pace = pace(st.Runs, snap.campaign(c.Metadata.Name, c.Metadata.UID), at, st.StartTime)
	return s
}

func detail(c *api.Campaign, snap *snapshot, now time.Time) CampaignDetail {
	d := CampaignDetail{CampaignSummary: summarize(c, snap, now), Program: c.Spec.Simulation.Program,
		Config: c.Spec.Simulation.Config, RunsFilter: c.Spec.Simulation.Runs, Retries: c.Spec.Retries}
	if c.Spec.Timeout.Duration > 0 {
		d.Timeout = c.Spec.Timeout.String()
	}
	switch src := c.Spec.Source; {
	case src.Git != nil:
		d.Source = src.Git.URL + "@" + src.Git.Commit
	case src.Archive != "":
		d.Source = "archive " + shortHash(src.Archive)
	default:
		d.Source = src.Path
	}
	return d
}

func shortHash(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// Overview is the campaigns page.
type Overview struct {
	Campaigns []CampaignSummary `json:"campaigns"`
	Totals    api.RunCounts     `json:"totals"`
	Workers   WorkerTotals      `json:"workers"`
	Index     IndexStatus       `json:"index"`
	At        time.Time         `json:"at"`
}

// WorkerTotals sums the live workers by role.
type WorkerTotals struct {
	Runners   int    `json:"runners"`
	Builders  int    `json:"builders"`
	Slots     int    `json:"slots"`
	BusySlots int    `json:"busySlots"`
	Error     string `json:"error,omitempty"`
}

func (s *Server) overview(ctx context.Context) (*Overview, error) {
	cs, err := s.cfg.Campaigns.List(ctx)
	if err != nil {
		return nil, err
	}
	snap := s.index.get()
	o := &Overview{Campaigns: make([]CampaignSummary, 0, len(cs)), Index: s.index.status(snap), At: s.now().UTC()}
	for _, c := range cs {
		sum := summarize(c, snap, o.At)
		o.Campaigns = append(o.Campaigns, sum)
		addCounts(&o.Totals, sum.Runs)
	}
	hbs, err := s.heartbeats(ctx)
	o.Workers = totals(hbs, err)
	return o, nil
}

func addCounts(t *api.RunCounts, c api.RunCounts) {
	t.Total += c.Total
	t.Pending += c.Pending
	t.Blocked += c.Blocked
	t.Queued += c.Queued
	t.Running += c.Running
	t.Succeeded += c.Succeeded
	t.Failed += c.Failed
	t.Skipped += c.Skipped
	t.Reused += c.Reused
}

func totals(hbs []heartbeat.Beat, err error) WorkerTotals {
	var t WorkerTotals
	if err != nil {
		t.Error = err.Error()
	}
	for _, hb := range hbs {
		if hb.Role == "build" {
			t.Builders++
		} else {
			t.Runners++
		}
		t.Slots += hb.ActiveSlots()
		t.BusySlots += len(hb.Tasks)
	}
	return t
}

func (s *Server) heartbeats(ctx context.Context) ([]heartbeat.Beat, error) {
	if s.cfg.Workers == nil {
		return nil, errors.New("no Redis configured")
	}
	return s.cfg.Workers.Heartbeats(ctx)
}

// RunRow is one run in the campaign page's table.
type RunRow struct {
	Run        int       `json:"run"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	ExitCode   int       `json:"exitCode"`
	DurationMS int64     `json:"durationMs"`
	Worker     string    `json:"worker,omitempty"`
	Message    string    `json:"message,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
	// Vars are the run's iteration variables, as the program lists them.
	Vars string `json:"vars,omitempty"`
}

// RunPage is one page of a campaign's runs.
type RunPage struct {
	State string   `json:"state,omitempty"`
	After int      `json:"after"`
	Limit int      `json:"limit"`
	Items []RunRow `json:"items"`
	// Next is the After of the next page, -1 on the last.
	Next int `json:"next"`
	// Matching counts the runs in the filter's state (all runs without
	// one), as indexed.
	Matching int `json:"matching"`
	// Indexed is false until the run index has seen the campaign.
	Indexed bool `json:"indexed"`
}

// CampaignPage is the campaign page.
type CampaignPage struct {
	Campaign CampaignDetail `json:"campaign"`
	Runs     RunPage        `json:"runs"`
	Index    IndexStatus    `json:"index"`
	At       time.Time      `json:"at"`
}

// Page sizes of the run table.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// errBadRequest marks a caller's mistake (400).
var errBadRequest = errors.New("bad request")

// runFilter checks the state filter of a run page.
func runFilter(state string) (uint8, error) {
	if state == "" {
		return stAny, nil
	}
	if c := stateCode(state); c != stOther {
		return c, nil
	}
	return 0, fmt.Errorf("%w: state %q is not one of %s", errBadRequest, state, strings.Join(stateNames[:stOther], ", "))
}

func (s *Server) campaignPage(ctx context.Context, name, state string, after, limit int) (*CampaignPage, error) {
	code, err := runFilter(state)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultPageSize
	}
	limit = min(limit, maxPageSize)
	c, err := s.cfg.Campaigns.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	snap := s.index.get()
	p := &CampaignPage{Campaign: detail(c, snap, s.now()), Index: s.index.status(snap), At: s.now().UTC(),
		Runs: RunPage{State: state, After: after, Limit: limit, Items: []RunRow{}, Next: -1}}
	cr := snap.campaign(c.Metadata.Name, c.Metadata.UID)
	if cr == nil {
		return p, nil
	}
	p.Runs.Indexed = true
	live := s.liveRuns(ctx, c.Metadata.Name, c.Metadata.UID)
	if (code == stQueued || code == stRunning) && live != nil {
		// In flight: the records say Pending, the queue says which.
		rows, matching, next := cr.livePage(live, code, after, limit)
		p.Runs.Matching, p.Runs.Next = matching, next
		for _, r := range rows {
			p.Runs.Items = append(p.Runs.Items, runRowView(r))
		}
		s.addVars(ctx, c, p.Runs.Items)
		return p, nil
	}
	if code == stAny {
		p.Runs.Matching = len(cr.rows)
	} else {
		p.Runs.Matching = cr.counts[code]
	}
	rows, next := cr.page(code, after, limit)
	p.Runs.Next = next
	for _, r := range rows {
		if st, ok := live[int(r.run)]; ok && r.state == stPending {
			if code == stPending {
				p.Runs.Matching--
				continue
			}
			r.state = st
		}
		p.Runs.Items = append(p.Runs.Items, runRowView(r))
	}
	s.addVars(ctx, c, p.Runs.Items)
	return p, nil
}

func runRowView(r runRow) RunRow {
	return RunRow{Run: int(r.run), State: stateNames[r.state], Attempts: int(r.attempts),
		ExitCode: int(r.exitCode), DurationMS: r.durationMS, Worker: r.worker, Message: r.message,
		UpdatedAt: time.UnixMilli(r.updated).UTC()}
}

// liveRuns maps the campaign's runs whose tasks are in the queue to
// stQueued or stRunning; nil without a source or when it fails (the
// records' states are shown as they are).
func (s *Server) liveRuns(ctx context.Context, name, uid string) map[int]uint8 {
	if s.cfg.Live == nil {
		return nil
	}
	tasks, err := s.cfg.Live.RunTasks(ctx, name, uid)
	if err != nil {
		s.log.Debug("listing the queue for a campaign page failed", zap.String("campaign", name), zap.Error(err))
		return nil
	}
	out := make(map[int]uint8, len(tasks))
	for run, st := range tasks {
		if st == schema.TaskActive {
			out[run] = stRunning
		} else {
			out[run] = stQueued
		}
	}
	return out
}

// QueueRow is one queue's depth.
type QueueRow struct {
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Pending   int    `json:"pending"`
	Active    int    `json:"active"`
	Scheduled int    `json:"scheduled"`
	Retry     int    `json:"retry"`
	Archived  int    `json:"archived"`
	Completed int    `json:"completed"`
	// ProcessedToday and FailedToday are asynq's daily counters.
	ProcessedToday int   `json:"processedToday"`
	FailedToday    int   `json:"failedToday"`
	LatencyMS      int64 `json:"latencyMs"`
	Paused         bool  `json:"paused,omitempty"`
}

// WorkerRow is one live worker.
type WorkerRow struct {
	Name  string     `json:"name"`
	Role  string     `json:"role"`
	Slots int        `json:"slots"`
	Busy  int        `json:"busy"`
	Tasks []string   `json:"tasks"`
	Since *time.Time `json:"since,omitempty"`
	// Waiting says why a runner takes no tasks (its node's slot count
	// not yet published, or 0).
	Waiting string `json:"waiting,omitempty"`
}

// BuildRow is one build record.
type BuildRow struct {
	Key        string    `json:"key"`
	State      string    `json:"state"`
	Worker     string    `json:"worker,omitempty"`
	DurationMS int64     `json:"durationMs"`
	LogTail    string    `json:"logTail,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// QueuesPage is the queues and workers page.
type QueuesPage struct {
	Queues      []QueueRow        `json:"queues"`
	QueueError  string            `json:"queueError,omitempty"`
	Workers     []WorkerRow       `json:"workers"`
	WorkerCount int               `json:"workerCount"`
	Totals      WorkerTotals      `json:"totals"`
	Failures    []failure         `json:"failures"`
	Builds      []BuildRow        `json:"builds"`
	Campaigns   []CampaignSummary `json:"campaigns"`
	Index       IndexStatus       `json:"index"`
	At          time.Time         `json:"at"`
}

// maxWorkerRows bounds the worker table (the totals count them all).
const maxWorkerRows = 1000

// maxBuildRows bounds the build table.
const maxBuildRows = 20

func (s *Server) queuesPage(ctx context.Context) (*QueuesPage, error) {
	cs, err := s.cfg.Campaigns.List(ctx)
	if err != nil {
		return nil, err
	}
	snap := s.index.get()
	p := &QueuesPage{Queues: []QueueRow{}, Workers: []WorkerRow{}, Failures: []failure{}, Builds: []BuildRow{},
		Campaigns: make([]CampaignSummary, 0, len(cs)), Index: s.index.status(snap), At: s.now().UTC()}
	for _, c := range cs {
		p.Campaigns = append(p.Campaigns, summarize(c, snap, p.At))
	}
	if s.cfg.Queues == nil {
		p.QueueError = "no Redis configured"
	} else if known, err := s.cfg.Queues.Queues(); err != nil {
		p.QueueError = "list queues: " + err.Error()
	} else {
		for _, q := range s.cfg.QueueNames {
			if !slices.Contains(known, q) {
				p.Queues = append(p.Queues, QueueRow{Name: q}) // nothing was ever enqueued
				continue
			}
			info, err := s.cfg.Queues.GetQueueInfo(q)
			if err != nil {
				p.QueueError = fmt.Sprintf("queue %s: %v", q, err)
				continue
			}
			p.Queues = append(p.Queues, QueueRow{Name: q, Size: info.Size, Pending: info.Pending, Active: info.Active,
				Scheduled: info.Scheduled, Retry: info.Retry, Archived: info.Archived, Completed: info.Completed,
				ProcessedToday: info.Processed, FailedToday: info.Failed, LatencyMS: info.Latency.Milliseconds(), Paused: info.Paused})
		}
	}
	hbs, err := s.heartbeats(ctx)
	p.Totals = totals(hbs, err)
	p.WorkerCount = len(hbs)
	for _, hb := range hbs[:min(len(hbs), maxWorkerRows)] {
		w := WorkerRow{Name: hb.Name, Role: hb.Role, Slots: hb.Slots, Busy: len(hb.Tasks), Tasks: hb.Tasks, Waiting: hb.Waiting}
		if w.Tasks == nil {
			w.Tasks = []string{}
		}
		if !hb.Since.IsZero() {
			since := hb.Since.UTC()
			w.Since = &since
		}
		p.Workers = append(p.Workers, w)
	}
	if snap != nil {
		p.Failures = append(p.Failures, snap.failures...)
	}
	if s.cfg.Builds != nil {
		bs, err := s.cfg.Builds.Builds(ctx)
		if err != nil {
			return nil, err
		}
		for _, b := range bs[:min(len(bs), maxBuildRows)] {
			p.Builds = append(p.Builds, BuildRow{Key: b.Key, State: b.State, Worker: b.Worker, DurationMS: b.DurationMS,
				LogTail: b.LogTail, UpdatedAt: b.UpdatedAt.UTC()})
		}
	}
	return p, nil
}

// SwarmPage is the swarm page.
type SwarmPage struct {
	// Available is false when this controller has no Docker access (it
	// does not run as a stack's controller service); Reason says why.
	Available   bool               `json:"available"`
	Reason      string             `json:"reason,omitempty"`
	Observation *stack.Observation `json:"observation,omitempty"`
	At          time.Time          `json:"at"`
}

// NoDockerReason is what the swarm page says without a SwarmObserver.
const NoDockerReason = "this controller has no Docker access: it sees the swarm only when it runs as the controller service of a simswarm stack (simswarm stack deploy)"

func (s *Server) swarmPage(ctx context.Context) (*SwarmPage, error) {
	p := &SwarmPage{At: s.now().UTC()}
	if s.cfg.Swarm == nil {
		p.Reason = NoDockerReason
		return p, nil
	}
	o, err := s.cfg.Swarm.Observe(ctx)
	if err != nil {
		p.Reason = "cannot read the swarm: " + err.Error()
		return p, nil
	}
	p.Available, p.Observation = true, o
	return p, nil
}

// isNotFound reports a missing campaign.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
