package campaign

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

var testRule = api.StopRule{Scalar: "Aloha.server.channelUtilization:last", Confidence: 0.95, RelativeHalfWidth: 0.05, MinRepetitions: 3}

// grid is an observation of points x reps runs, numbered as OMNeT++ does
// (the repetition varies fastest), every record Pending.
func grid(points, reps int) StopObservation {
	o := StopObservation{Rule: testRule, MaxAttempts: 3}
	for p := range points {
		o.Points = append(o.Points, "$x="+string(rune('a'+p)))
		for r := range reps {
			o.Runs = append(o.Runs, StopRun{Run: p*reps + r, Point: p, Repetition: r, State: schema.RunPending})
		}
	}
	return o
}

func succeed(o *StopObservation, run int, v float64) {
	o.Runs[run].State, o.Runs[run].Value, o.Runs[run].HasValue, o.Runs[run].Indexed = schema.RunSucceeded, v, true, true
}

func orderRuns(p StopPlan) []int {
	var out []int
	for _, it := range p.Order {
		out = append(out, it.Run)
	}
	return out
}

func TestDecideStopDispatchesRepetitionByRepetition(t *testing.T) {
	o := grid(3, 5) // point p's repetition r is run 5p+r
	p := decideStop(o, 0)
	// Each point needs its 3 minimum repetitions: all of them go, every
	// point's repetition 0 first, then 1, then 2; none of repetition 3.
	if got, want := orderRuns(p), []int{0, 5, 10, 1, 6, 11, 2, 7, 12}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if len(p.Skip) != 0 || p.Points != (api.PointsStatus{Total: 3}) {
		t.Fatalf("skip %v, points %+v", p.Skip, p.Points)
	}
	// The minimum reached with a wide interval: one run per point in
	// flight at a time (slots unknown), the next repetition in order.
	for _, run := range []int{0, 1, 2, 5, 6, 7, 10, 11, 12} {
		succeed(&o, run, float64(run%5)) // 0, 1, 2: far from converged
	}
	o.Runs[8].Live = true // point 1's repetition 3 is in flight
	if got, want := orderRuns(decideStop(o, 0)), []int{3, 13}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	// 8 slots over 3 open points: 3 in flight per point.
	if got, want := orderRuns(decideStop(o, 8)), []int{3, 13, 4, 9, 14}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order with 8 slots %v, want %v", got, want)
	}
}

func TestDecideStopSkipsTheRestOfAConvergedPoint(t *testing.T) {
	o := grid(2, 6)
	for run, v := range map[int]float64{0: 1.00, 1: 1.01, 2: 0.99, 6: 1, 7: 2, 8: 3} {
		succeed(&o, run, v)
	}
	o.Runs[3].Live = true                                     // in flight: finishes normally
	o.Runs[4].State, o.Runs[4].Attempts = schema.RunFailed, 1 // attempts left: skipped, not retried
	o.Runs[5].State, o.Runs[5].Attempts = schema.RunFailed, 3 // exhausted: stays Failed
	p := decideStop(o, 0)
	want := []StopSkip{{Run: 4, From: schema.RunFailed}}
	if !reflect.DeepEqual(p.Skip, want) {
		t.Fatalf("skip %v, want %v", p.Skip, want)
	}
	o.Runs[3].Live = false
	p = decideStop(o, 0)
	want = []StopSkip{{Run: 3, From: schema.RunPending}, {Run: 4, From: schema.RunFailed}}
	if !reflect.DeepEqual(p.Skip, want) {
		t.Fatalf("skip %v, want %v", p.Skip, want)
	}
	if !p.Converged[0] || p.Converged[1] || p.Points != (api.PointsStatus{Total: 2, Converged: 1}) {
		t.Fatalf("converged %v, points %+v", p.Converged, p.Points)
	}
	// Point 1 (1, 2, 3: wide) goes on; nothing of point 0 is dispatched.
	if got := orderRuns(p); !reflect.DeepEqual(got, []int{9}) {
		t.Fatalf("order %v, want [9]", got)
	}
	// The interval, recomputed: half-width t(0.975, 2) * sd / sqrt(3).
	pi := o.Interval([]float64{1, 1.01, 0.99})
	if want := 4.302653 * 0.01 / math.Sqrt(3); math.Abs(pi.Half-want) > 1e-6 || !pi.Converged {
		t.Fatalf("interval %+v, want half %v, converged", pi, want)
	}
}

func TestDecideStopRule(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []float64
		want   bool
	}{
		{"tight but below the minimum", []float64{2, 2}, false},
		{"tight at the minimum", []float64{2, 2.001, 1.999}, true},
		{"just too wide", []float64{1, 1.05, 0.95}, false},
		{"all zero: half-width 0 within 5% of 0", []float64{0, 0, 0}, true},
		{"around zero never converges", []float64{-0.001, 0.001, 0}, false},
		{"a NaN never converges", []float64{1, math.NaN(), 1, 1}, false},
		{"negative mean: magnitude", []float64{-2, -2.001, -1.999}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := (StopObservation{Rule: testRule}).Interval(append([]float64(nil), tt.values...)); got.Converged != tt.want {
				t.Fatalf("converged = %v (%+v), want %v", got.Converged, got, tt.want)
			}
		})
	}
}

// TestDecideStopMissingScalar: a point whose finished runs lack the
// scalar never converges, runs all its repetitions, and status says why.
func TestDecideStopMissingScalar(t *testing.T) {
	o := grid(2, 4)
	for run := range 3 {
		o.Runs[run].State, o.Runs[run].Indexed = schema.RunSucceeded, true // no value
	}
	for run := 4; run < 7; run++ {
		succeed(&o, run, 1)
	}
	p := decideStop(o, 0)
	if p.Points.Missing != 1 || p.Points.Converged != 1 ||
		p.Points.Message != `1 point cannot converge: no finished run of theirs has Aloha.server.channelUtilization:last ($x=a)` {
		t.Fatalf("points %+v", p.Points)
	}
	if got := orderRuns(p); !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("order %v, want point 0's last repetition [3]", got)
	}
}

func TestPointOf(t *testing.T) {
	for vars, want := range map[string]struct {
		point string
		rep   int
	}{
		"$iaMean=1, $numHosts=10, $repetition=3": {"$iaMean=1, $numHosts=10", 3},
		"$repetition=0, $iaMean=1":               {"$iaMean=1", 0},
		`$name="a, b", $repetition=2`:            {`$name="a, b"`, 2},
		"$repetition=7":                          {"", 7},
		"":                                       {"", 0},
	} {
		point, rep := pointOf(vars)
		if point != want.point || rep != want.rep {
			t.Errorf("pointOf(%q) = %q, %d; want %q, %d", vars, point, rep, want.point, want.rep)
		}
	}
}

func TestStopBatchesHoldOneRepetition(t *testing.T) {
	var items []StopItem
	for i, rep := range []int{0, 0, 0, 1, 1, 2} {
		items = append(items, StopItem{RunItem: schema.RunItem{Run: i}, Repetition: rep})
	}
	var got []string
	for _, b := range stopBatches(items, 2) {
		var s []string
		for _, it := range b {
			s = append(s, string(rune('0'+it.Run)))
		}
		got = append(got, strings.Join(s, ","))
	}
	if want := []string{"0,1", "2", "3,4", "5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
}

// stopObserved is a pass's observation of a 2-point, 6-repetition
// campaign with a stop rule whose point 0 converged on its first 3 runs.
func stopObserved() Observed {
	so := grid(2, 6)
	for run, v := range map[int]float64{0: 1.00, 1: 1.01, 2: 0.99, 6: 1, 7: 2, 8: 3} {
		succeed(&so, run, v)
	}
	so.Runs[4].State, so.Runs[4].Attempts = schema.RunFailed, 1
	rule := so.Rule
	return Observed{Spec: api.CampaignSpec{Stop: &rule}, Expanded: 12, Build: &schema.BuildRecord{State: schema.BuildSucceeded},
		Counts: api.RunCounts{Total: 12, Succeeded: 6, Failed: 1, Pending: 5}, CountsFresh: true, Pool: Pool{Total: 32},
		Retryable: []schema.RunRecord{{ID: "stop/u/4", Run: 4, State: schema.RunFailed, Attempts: 1}}, Stop: &so}
}

func TestComputeWithStopRule(t *testing.T) {
	t.Run("points not known yet: nothing dispatched", func(t *testing.T) {
		o := stopObserved()
		o.Stop = nil
		d := Compute(o)
		if d.Dispatch != 0 || d.Stop != nil || cond(d.Status, api.ConditionReady).Reason != ReasonListingRuns {
			t.Fatalf("dispatch %d, plan %v, ready %+v", d.Dispatch, d.Stop, cond(d.Status, api.ConditionReady))
		}
	})
	t.Run("skips, retries none of a converged point, dispatches the plan only", func(t *testing.T) {
		d := Compute(stopObserved())
		if len(d.Retry) != 0 {
			t.Fatalf("retried %v of a converged point", d.Retry)
		}
		want := []StopSkip{{Run: 3, From: schema.RunPending}, {Run: 4, From: schema.RunFailed}, {Run: 5, From: schema.RunPending}}
		if d.Stop == nil || !reflect.DeepEqual(d.Stop.Skip, want) {
			t.Fatalf("plan %+v, want skips %v", d.Stop, want)
		}
		// Point 1 is open: one run in flight at a time.
		if d.Dispatch != 1 || d.Demand != 1 || !reflect.DeepEqual(orderRuns(*d.Stop), []int{9}) {
			t.Fatalf("dispatch %d, demand %d, order %v", d.Dispatch, d.Demand, orderRuns(*d.Stop))
		}
		st := d.Status
		if st.Phase != api.PhaseRunning || st.Runs.Skipped != 3 || st.Runs.Pending != 3 || st.Runs.Failed != 0 ||
			*st.Points != (api.PointsStatus{Total: 2, Converged: 1}) {
			t.Fatalf("status %+v, points %+v", st.Runs, st.Points)
		}
		if msg := cond(st, api.ConditionReady).Message; msg != "running, 3 skipped; 1 of 2 points converged" {
			t.Fatalf("ready says %q", msg)
		}
	})
	t.Run("suspended: points reported, nothing skipped or sent", func(t *testing.T) {
		o := stopObserved()
		o.Spec.Suspend = true
		d := Compute(o)
		if d.Stop == nil || len(d.Stop.Skip) != 0 || d.Dispatch != 0 || d.Status.Points.Converged != 1 {
			t.Fatalf("suspended: %+v, dispatch %d", d.Stop, d.Dispatch)
		}
	})
	t.Run("every run succeeded or skipped: succeeded, and again writes nothing", func(t *testing.T) {
		o := stopObserved()
		for i := range o.Stop.Runs {
			r := &o.Stop.Runs[i]
			switch {
			case r.Point == 0 && r.State != schema.RunSucceeded:
				r.State = schema.RunSkipped
			case r.Point == 1:
				succeed(o.Stop, r.Run, float64(r.Run))
			}
		}
		o.Counts, o.Retryable = api.RunCounts{Total: 12, Succeeded: 9, Skipped: 3}, nil
		d := Compute(o)
		if d.Status.Phase != api.PhaseSucceeded || d.Dispatch != 0 || len(d.Stop.Skip) != 0 ||
			cond(d.Status, api.ConditionReady).Message != "9 runs succeeded, 3 skipped; 1 of 2 points converged" {
			t.Fatalf("phase %s, ready %+v", d.Status.Phase, cond(d.Status, api.ConditionReady))
		}
		o.Status = d.Status
		if again := Compute(o); statusChanged(o.Status, again.Status) || again.Dispatch != 0 || len(again.Stop.Skip) != 0 {
			t.Fatalf("second pass changed the status: %+v", again.Status)
		}
	})
	t.Run("a pass that skips does not declare the campaign finished", func(t *testing.T) {
		o := stopObserved()
		for i := range o.Stop.Runs {
			if r := &o.Stop.Runs[i]; r.Point == 1 {
				succeed(o.Stop, r.Run, float64(r.Run))
			}
		}
		o.Stop.Runs[4].State = schema.RunSkipped
		o.Counts, o.Retryable = api.RunCounts{Total: 12, Succeeded: 9, Skipped: 1, Pending: 2}, nil
		if d := Compute(o); d.Status.Phase != api.PhaseRunning || len(d.Stop.Skip) != 2 {
			t.Fatalf("phase %s with skips %v", d.Status.Phase, d.Stop.Skip)
		}
	})
}
