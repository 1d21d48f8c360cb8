package campaign

import (
	"errors"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

func cond(st api.CampaignStatus, typ string) api.Condition {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return api.Condition{}
}

func TestCompute(t *testing.T) {
	now := time.Unix(1_700_000_000, 0).UTC()
	ok := &schema.BuildRecord{Key: "k", State: schema.BuildSucceeded}
	cases := []struct {
		name       string
		o          Observed
		phase      string
		stalled    string
		reason     string
		createRuns bool
		startBuild bool
		dispatch   int
		unqueue    bool
		requeue    bool
	}{
		{name: "invalid spec is terminal", o: Observed{SpecErr: errors.New("spec.x: bad"), Expanded: -1},
			phase: api.PhaseFailed, stalled: "True", reason: ReasonInvalidSpec, unqueue: true},
		{name: "no build record: start the build and create runs", o: Observed{Expanded: 10, Pool: Pool{Total: 32}},
			phase: api.PhaseBuilding, stalled: "False", reason: ReasonBuilding, createRuns: true, startBuild: true, requeue: true},
		{name: "build pending with its task queued: wait", o: Observed{Expanded: 10, Counts: api.RunCounts{Total: 10, Pending: 10},
			Build: &schema.BuildRecord{State: schema.BuildPending}, BuildTaskQueued: true, Pool: Pool{Total: 32}},
			phase: api.PhaseBuilding, stalled: "False", reason: ReasonBuilding, requeue: true},
		{name: "build pending but its task vanished: enqueue again", o: Observed{Expanded: 10, Counts: api.RunCounts{Total: 10, Pending: 10},
			Build: &schema.BuildRecord{State: schema.BuildPending}, Pool: Pool{Total: 32}},
			phase: api.PhaseBuilding, stalled: "False", reason: ReasonBuilding, startBuild: true, requeue: true},
		{name: "build failed is stalled", o: Observed{Expanded: 10, Build: &schema.BuildRecord{State: schema.BuildFailed, LogTail: "x\nmake: *** Error 1\n"}},
			phase: api.PhaseFailed, stalled: "True", reason: ReasonBuildFailed, unqueue: true},
		{name: "window bounds dispatch", o: Observed{Expanded: 100, Counts: api.RunCounts{Total: 100, Pending: 90, Queued: 10}, Build: ok, Inflight: 10, Pool: Pool{Total: 32}},
			phase: api.PhaseRunning, stalled: "False", reason: ReasonRunning, dispatch: 22, requeue: true},
		{name: "full window dispatches nothing", o: Observed{Expanded: 100, Counts: api.RunCounts{Total: 100, Pending: 60, Queued: 40}, Build: ok, Inflight: 40, Pool: Pool{Total: 32}},
			phase: api.PhaseRunning, stalled: "False", reason: ReasonRunning, requeue: true},
		{name: "dispatch limited to created records", o: Observed{Expanded: 100000, Counts: api.RunCounts{Total: 5, Pending: 5}, Build: ok, Pool: Pool{Total: 32}},
			phase: api.PhaseRunning, stalled: "False", reason: ReasonCreatingRuns, createRuns: true, dispatch: 5, requeue: true},
		{name: "suspended unqueues", o: Observed{Spec: api.CampaignSpec{Suspend: true}, Expanded: 10, Counts: api.RunCounts{Total: 10, Pending: 5, Queued: 5}, Build: ok, Inflight: 5, Pool: Pool{Total: 0}},
			phase: api.PhaseSuspended, stalled: "False", reason: ReasonSuspended, unqueue: true},
		{name: "all succeeded", o: Observed{Expanded: 3, Counts: api.RunCounts{Total: 3, Succeeded: 3}, CountsFresh: true, Build: ok},
			phase: api.PhaseSucceeded, stalled: "False", reason: ReasonSucceeded},
		{name: "exhausted failures", o: Observed{Expanded: 3, Counts: api.RunCounts{Total: 3, Succeeded: 2, Failed: 1}, CountsFresh: true, Build: ok},
			phase: api.PhaseFailed, stalled: "True", reason: ReasonRunsFailed},
		{name: "no capacity left by higher priority", o: Observed{Expanded: 3, Counts: api.RunCounts{Total: 3, Pending: 3}, Build: ok, Pool: Pool{Total: 32, Ahead: 32}},
			phase: api.PhaseRunning, stalled: "False", reason: ReasonWaitingWindow, requeue: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Now = now
			tc.o.Generation = 3
			d := Compute(tc.o)
			if d.Status.Phase != tc.phase {
				t.Errorf("phase = %s, want %s", d.Status.Phase, tc.phase)
			}
			// kstatus: Stalled is there only when True, with its reason;
			// otherwise it is False, and Ready carries the reason.
			c := cond(d.Status, api.ConditionStalled)
			if c.Status == "" {
				c.Status, c.Reason = api.ConditionFalse, cond(d.Status, api.ConditionReady).Reason
			}
			if c.Status != tc.stalled || c.Reason != tc.reason {
				t.Errorf("Stalled = %s/%s, want %s/%s", c.Status, c.Reason, tc.stalled, tc.reason)
			}
			if d.CreateRuns != tc.createRuns || d.StartBuild != tc.startBuild || d.Dispatch != tc.dispatch || d.Unqueue != tc.unqueue {
				t.Errorf("actions create=%v build=%v dispatch=%d unqueue=%v, want %v %v %d %v",
					d.CreateRuns, d.StartBuild, d.Dispatch, d.Unqueue, tc.createRuns, tc.startBuild, tc.dispatch, tc.unqueue)
			}
			if (d.Requeue > 0) != tc.requeue {
				t.Errorf("requeue = %v, want %v", d.Requeue, tc.requeue)
			}
			if d.Status.ObservedGeneration != 3 {
				t.Errorf("observedGeneration = %d", d.Status.ObservedGeneration)
			}
			ready := cond(d.Status, api.ConditionReady).Status
			if (tc.phase == api.PhaseSucceeded) != (ready == "True") {
				t.Errorf("Ready = %s in phase %s", ready, tc.phase)
			}
		})
	}
}

// TestComputePolicy: what a pass does is decided by Compute alone, from
// what it observed: the demand (capped by parallelism, none while
// suspended or building), the share of the window, the runs to retry,
// and whether the campaign is finished, which needs a fresh count.
func TestComputePolicy(t *testing.T) {
	ok := &schema.BuildRecord{Key: "k", State: schema.BuildSucceeded}
	now := time.Unix(1_700_000_000, 0).UTC()
	pending := func(n int64) api.RunCounts { return api.RunCounts{Total: n, Pending: n} }
	t.Run("parallelism caps the demand and so the window", func(t *testing.T) {
		d := Compute(Observed{Spec: api.CampaignSpec{Parallelism: 5}, Expanded: 100, Counts: pending(100), Build: ok,
			Pool: Pool{Total: 32}, Now: now})
		if d.Demand != 5 || d.Dispatch != 5 {
			t.Errorf("demand %d dispatch %d, want 5 and 5", d.Demand, d.Dispatch)
		}
	})
	t.Run("records not created yet count in the demand", func(t *testing.T) {
		d := Compute(Observed{Expanded: 100, Counts: pending(10), Build: ok, Pool: Pool{Total: 32}, Now: now})
		if d.Demand != 100 || d.Dispatch != 10 {
			t.Errorf("demand %d dispatch %d, want 100 and 10 (only created records)", d.Demand, d.Dispatch)
		}
	})
	t.Run("campaigns before it take their demand first", func(t *testing.T) {
		d := Compute(Observed{Expanded: 100, Counts: pending(100), Build: ok, Pool: Pool{Total: 32, Ahead: 20}, Now: now})
		if d.Dispatch != 12 {
			t.Errorf("dispatch %d, want the 12 that 20 ahead leave of 32", d.Dispatch)
		}
	})
	t.Run("no demand while suspended or building", func(t *testing.T) {
		for _, o := range []Observed{
			{Spec: api.CampaignSpec{Suspend: true}, Expanded: 10, Counts: pending(10), Build: ok, Pool: Pool{Total: 32}},
			{Expanded: 10, Counts: pending(10), Build: &schema.BuildRecord{State: schema.BuildPending}, Pool: Pool{Total: 32}},
		} {
			if d := Compute(o); d.Demand != 0 || d.Dispatch != 0 {
				t.Errorf("%+v: demand %d dispatch %d, want none", o.Spec, d.Demand, d.Dispatch)
			}
		}
	})
	t.Run("retryable failures go back to Pending and are dispatched", func(t *testing.T) {
		o := Observed{Expanded: 3, Counts: api.RunCounts{Total: 3, Succeeded: 2, Failed: 1}, CountsFresh: true, Build: ok,
			Retryable: []schema.RunRecord{{ID: "r2", Run: 2, Attempts: 1, Message: "exit 1"}}, Pool: Pool{Total: 32}, Now: now}
		d := Compute(o)
		if d.Status.Phase != api.PhaseRunning || len(d.Retry) != 1 || d.Retry[0] != "r2" || d.Dispatch != 1 {
			t.Errorf("phase %s retry %v dispatch %d, want Running, r2 retried and dispatched", d.Status.Phase, d.Retry, d.Dispatch)
		}
		if c := cond(d.Status, api.ConditionDegraded); c.Status != api.ConditionTrue || c.Reason != ReasonAttemptFailed {
			t.Errorf("Degraded %+v, want True/%s", c, ReasonAttemptFailed)
		}
		o.Spec.Suspend = true
		if d := Compute(o); len(d.Retry) != 0 {
			t.Errorf("suspended campaign retried %v", d.Retry)
		}
	})
	t.Run("finished only on a fresh count", func(t *testing.T) {
		o := Observed{Expanded: 3, Counts: api.RunCounts{Total: 3, Succeeded: 3}, Build: ok, Pool: Pool{Total: 32}, Now: now}
		if d := Compute(o); d.Status.Phase != api.PhaseRunning || d.Requeue == 0 || d.Status.CompletionTime != nil {
			t.Errorf("cached count: phase %s requeue %v, want Running and a look again", d.Status.Phase, d.Requeue)
		}
		o.CountsFresh = true
		if d := Compute(o); d.Status.Phase != api.PhaseSucceeded {
			t.Errorf("fresh count: phase %s, want Succeeded", d.Status.Phase)
		}
	})
}

// TestConditionsFollowKstatus: Ready is always there; Reconciling and
// Stalled only while True, each with its own reason; a status written
// by older versions (both False) loses them.
func TestConditionsFollowKstatus(t *testing.T) {
	ok := &schema.BuildRecord{Key: "k", State: schema.BuildSucceeded}
	old := []api.Condition{{Type: api.ConditionReconciling, Status: "False"}, {Type: api.ConditionStalled, Status: "False"}}
	cases := []struct {
		name                 string
		o                    Observed
		reconciling, stalled string // "": absent
		ready                string
	}{
		{"building", Observed{Expanded: 10}, ReasonBuilding, "", "False"},
		{"running", Observed{Expanded: 10, Counts: api.RunCounts{Total: 10, Pending: 10}, Build: ok, Pool: Pool{Total: 32}}, ReasonRunning, "", "False"},
		{"invalid spec", Observed{SpecErr: errors.New("spec.x: bad")}, "", ReasonInvalidSpec, "False"},
		{"runs failed", Observed{Expanded: 1, Counts: api.RunCounts{Total: 1, Failed: 1}, CountsFresh: true, Build: ok}, "", ReasonRunsFailed, "False"},
		{"succeeded", Observed{Expanded: 1, Counts: api.RunCounts{Total: 1, Succeeded: 1}, CountsFresh: true, Build: ok}, "", "", "True"},
		{"suspended", Observed{Spec: api.CampaignSpec{Suspend: true}, Expanded: 1, Counts: api.RunCounts{Total: 1, Pending: 1}, Build: ok}, "", "", "False"},
	}
	for _, tc := range cases {
		tc.o.Status.Conditions = old
		st := Compute(tc.o).Status
		for typ, want := range map[string]string{api.ConditionReconciling: tc.reconciling, api.ConditionStalled: tc.stalled} {
			c := findCondition(st.Conditions, typ)
			switch {
			case want == "" && c != nil:
				t.Errorf("%s: %s is there (%+v), want it absent", tc.name, typ, *c)
			case want != "" && (c == nil || c.Status != api.ConditionTrue || c.Reason != want):
				t.Errorf("%s: %s = %+v, want True/%s", tc.name, typ, c, want)
			}
		}
		if r := findCondition(st.Conditions, api.ConditionReady); r == nil || r.Status != tc.ready {
			t.Errorf("%s: Ready = %+v, want %s", tc.name, r, tc.ready)
		}
	}
}

func TestComputeIsStableWhenConverged(t *testing.T) {
	o := Observed{Generation: 1, Expanded: 3, Counts: api.RunCounts{Total: 3, Succeeded: 3}, CountsFresh: true,
		Build: &schema.BuildRecord{State: schema.BuildSucceeded}, Now: time.Unix(1, 0).UTC()}
	first := Compute(o).Status
	o.Status = first
	o.Now = o.Now.Add(time.Hour)
	second := Compute(o).Status
	if statusChanged(first, second) {
		t.Fatalf("status changed on a converged campaign:\n%+v\n%+v", first, second)
	}
}

func TestSharesByPriority(t *testing.T) {
	s := NewShares(32)
	t0 := time.Unix(0, 0)
	if w := s.Window("low", 0, t0, 100); w != 32 {
		t.Fatalf("alone: %d", w)
	}
	if w := s.Window("high", 10, t0.Add(time.Hour), 20); w != 20 {
		t.Fatalf("high: %d", w)
	}
	if w := s.Window("low", 0, t0, 100); w != 12 {
		t.Fatalf("low after high took 20: %d", w)
	}
	s.Forget("high")
	if w := s.Window("low", 0, t0, 100); w != 32 {
		t.Fatalf("low after high finished: %d", w)
	}
}

// TestSharesWindowHoldsASecondOfWork: the window grows to the runs
// finished in the last second (above the floor, at most maxWindow) and
// falls back to the floor when runs stop finishing.
func TestSharesWindowHoldsASecondOfWork(t *testing.T) {
	now := time.Unix(1000, 0)
	s := NewShares(32)
	s.Now = func() time.Time { return now }
	finish := func(n int, over time.Duration) {
		for range n {
			s.Finished()
			now = now.Add(over / time.Duration(n))
		}
	}
	finish(20, time.Second)
	if w := s.Window("c", 0, now, 100000); w != 32 {
		t.Fatalf("20 runs/s: window %d, want the floor 32", w)
	}
	finish(150, time.Second)
	if w := s.Window("c", 0, now, 100000); w != 150 {
		t.Fatalf("150 runs/s: window %d, want 150", w)
	}
	if w := s.Window("c", 0, now, 90); w != 90 {
		t.Fatalf("demand 90: window %d, want 90", w)
	}
	finish(2*maxWindow, time.Second)
	if w := s.Window("c", 0, now, 100000); w != maxWindow {
		t.Fatalf("%d runs/s: window %d, want maxWindow %d", 2*maxWindow, w, maxWindow)
	}
	now = now.Add(3 * time.Second)
	if w := s.Window("c", 0, now, 100000); w != 32 {
		t.Fatalf("nothing finished for 3s: window %d, want the floor 32", w)
	}
	s.SetFloor(64)
	if w := s.Total(); w != 64 {
		t.Fatalf("floor 64: total %d", w)
	}
}

func TestChunkBounds(t *testing.T) {
	for _, tc := range []struct{ created, total, start, end int }{
		{0, 100000, 0, 1000}, {500, 100000, 0, 1000}, {1000, 100000, 1000, 6000},
		{5999, 100000, 1000, 6000}, {6000, 100000, 6000, 11000}, {99000, 100000, 96000, 100000},
		{0, 10, 0, 10}, {10, 10, 0, 10},
	} {
		s, e := chunkBounds(tc.created, tc.total)
		if s != tc.start || e != tc.end {
			t.Errorf("chunkBounds(%d, %d) = %d, %d, want %d, %d", tc.created, tc.total, s, e, tc.start, tc.end)
		}
	}
}

// TestComputeCountsQueuedAndRunningOffTheQueue: run records stay Pending
// while their tasks are in the queue; the status shows them Queued or
// Running, and only the records without a task can be dispatched.
func TestComputeCountsQueuedAndRunningOffTheQueue(t *testing.T) {
	ok := &schema.BuildRecord{Key: "k", State: schema.BuildSucceeded}
	d := Compute(Observed{Expanded: 40, Counts: api.RunCounts{Total: 40, Pending: 36, Succeeded: 4}, Build: ok,
		Inflight: 34, Active: 4, Pool: Pool{Total: 40}})
	want := api.RunCounts{Total: 40, Pending: 2, Queued: 30, Running: 4, Succeeded: 4}
	if d.Status.Runs != want {
		t.Errorf("counts %+v, want %+v", d.Status.Runs, want)
	}
	if d.Dispatch != 2 {
		t.Errorf("dispatch %d, want 2 (the window has 6 free places but only 2 records wait)", d.Dispatch)
	}
	// A queue listing that has more tasks than Pending records (a run
	// finished between the listing and the count) never makes counts
	// negative.
	d = Compute(Observed{Expanded: 4, Counts: api.RunCounts{Total: 4, Pending: 1, Succeeded: 3}, Build: ok,
		Inflight: 3, Active: 3, Pool: Pool{Total: 8}})
	if r := d.Status.Runs; r.Pending != 0 || r.Running != 1 || r.Queued != 0 || d.Dispatch != 0 {
		t.Errorf("counts %+v dispatch %d, want 1 running and nothing to dispatch", r, d.Dispatch)
	}
}
