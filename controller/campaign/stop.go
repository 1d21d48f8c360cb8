package campaign

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/internal/textutil"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// Statistical stopping (spec.stop): a campaign's runs fall into parameter
// points (their iteration variables but $repetition). Runs are dispatched
// repetition by repetition across the points (every point's repetition 0,
// then 1, ...), each point keeping only a few runs in flight beyond its
// rule's minimum, so that what is dispatched ahead of the results is
// bounded; once a point's interval of the rule's scalar (over its
// succeeded runs, from the result index) meets the rule, its runs not yet
// dispatched end as Skipped. Runs in flight when their point converges
// finish normally. A point none of whose finished runs has the scalar never
// converges: it runs every repetition, and status.points says why.
//
// This file is the policy, pure: decideStop takes what observe read of
// the runs (StopObservation) and says which to skip and which to dispatch
// in what order. stop_observe.go reads.

// StopObservation is what a pass read of a campaign with a stop rule.
type StopObservation struct {
	Rule api.StopRule
	// Points are the points' labels (their iteration variables, as the
	// program lists them, without $repetition), indexed by StopRun.Point.
	Points []string
	// Runs are the campaign's selected runs, by ascending run number.
	Runs []StopRun
	// MaxAttempts is how many attempts a run has (1 + spec.retries).
	MaxAttempts int
}

// StopRun is one run as a pass sees it.
type StopRun struct {
	Run, Point, Repetition int
	// State is the run record's ("" while it has none); Attempts its
	// count; Live: its task is in the queue (queued or running).
	State    string
	Attempts int
	Live     bool
	// Value is the rule's scalar in the run's results, HasValue whether
	// the run has it (Indexed: the run has an index document at all).
	Value             float64
	HasValue, Indexed bool
}

// StopPlan is what decideStop decided.
type StopPlan struct {
	// Skip are the runs to end as Skipped, each from the state it is in
	// (Pending and not in the queue, or Failed with attempts left), of
	// converged points.
	Skip []StopSkip
	// Order are the runs a dispatch may send now, in the order to send
	// them: by repetition, then point.
	Order []StopItem
	// Points is status.points.
	Points api.PointsStatus
	// Converged[i] says whether point i converged.
	Converged []bool
}

// StopSkip is a run to skip and the state it is skipped from.
type StopSkip struct {
	Run  int
	From string
}

// StopItem is a run to dispatch, with its repetition (a task's runs are
// of one repetition).
type StopItem struct {
	schema.RunItem
	Repetition int
}

// PointInterval is a point's interval of the rule's scalar.
type PointInterval struct {
	N                int
	Mean, Half       float64
	Converged        bool
	Finished, Values int // succeeded runs, and of those the ones with the scalar
}

// Interval computes a point's interval from its runs' values and says
// whether it meets the rule: at least MinRepetitions values, a finite
// half-width of at most RelativeHalfWidth times the mean's magnitude.
func (o StopObservation) Interval(values []float64) PointInterval {
	pi := PointInterval{N: len(values), Mean: math.NaN(), Half: math.NaN()}
	if len(values) == 0 {
		return pi
	}
	pi.Mean, _, pi.Half = resulttable.Interval(values, o.Rule.Confidence)
	pi.Converged = len(values) >= int(o.Rule.MinRepetitions) && !math.IsNaN(pi.Half) && !math.IsInf(pi.Half, 0) &&
		pi.Half <= o.Rule.RelativeHalfWidth*math.Abs(pi.Mean)
	return pi
}

// maxMissingNamed bounds the points status.points.message names.
const maxMissingNamed = 3

// decideStop is the stop rule's policy for one pass (pure). slots is how
// many run slots the workers offer (0: unknown): each point not converged
// keeps up to max(1, slots/points not converged) runs in flight, or as
// many as it still needs to reach the rule's minimum, so that the window
// never sends a point's repetitions far ahead of its results.
func decideStop(o StopObservation, slots int) StopPlan {
	np := len(o.Points)
	p := StopPlan{Converged: make([]bool, np), Points: api.PointsStatus{Total: int64(np)}}
	values := make([][]float64, np)
	finished := make([]int, np)
	inflight := make([]int, np)
	for _, r := range o.Runs {
		switch {
		case r.State == schema.RunSucceeded:
			finished[r.Point]++
			if r.HasValue {
				values[r.Point] = append(values[r.Point], r.Value)
			}
		case r.Live:
			inflight[r.Point]++
		}
	}
	var missing []string
	open := 0
	for i := range np {
		pi := o.Interval(values[i])
		p.Converged[i] = pi.Converged
		switch {
		case pi.Converged:
			p.Points.Converged++
		default:
			open++
			if finished[i] > 0 && len(values[i]) == 0 {
				p.Points.Missing++
				if len(missing) < maxMissingNamed {
					missing = append(missing, o.Points[i])
				}
			}
		}
	}
	if p.Points.Missing > 0 {
		p.Points.Message = textutil.Plural(p.Points.Missing, "point") + " cannot converge: no finished run of theirs has " +
			o.Rule.Scalar + " (" + strings.Join(missing, "; ")
		if p.Points.Missing > int64(len(missing)) {
			p.Points.Message += "; ..."
		}
		p.Points.Message += ")"
	}
	perPoint := 1
	if open > 0 && slots > open {
		perPoint = ceilDiv(slots, open)
	}
	room := make([]int, np)
	for i := range np {
		room[i] = max(perPoint, int(o.Rule.MinRepetitions)-finished[i]) - inflight[i]
	}
	// Runs by repetition, then point: o.Runs is by run number, whose order
	// of repetitions within a point is the program's.
	byRep := make([]int, 0, len(o.Runs))
	for i := range o.Runs {
		byRep = append(byRep, i)
	}
	sort.SliceStable(byRep, func(a, b int) bool {
		ra, rb := &o.Runs[byRep[a]], &o.Runs[byRep[b]]
		if ra.Repetition != rb.Repetition {
			return ra.Repetition < rb.Repetition
		}
		return ra.Point < rb.Point
	})
	for _, i := range byRep {
		r := &o.Runs[i]
		if p.Converged[r.Point] {
			switch {
			case r.State == schema.RunPending && !r.Live:
				p.Skip = append(p.Skip, StopSkip{Run: r.Run, From: schema.RunPending})
			case r.State == schema.RunFailed && r.Attempts < o.MaxAttempts:
				p.Skip = append(p.Skip, StopSkip{Run: r.Run, From: schema.RunFailed})
			}
			continue
		}
		if r.State == schema.RunPending && !r.Live && room[r.Point] > 0 {
			room[r.Point]--
			p.Order = append(p.Order, StopItem{RunItem: schema.RunItem{Run: r.Run, Attempt: r.Attempts}, Repetition: r.Repetition})
		}
	}
	sort.Slice(p.Skip, func(a, b int) bool { return p.Skip[a].Run < p.Skip[b].Run })
	return p
}

// pointOf splits a run's iteration variables as the program lists them
// ("$iaMean=1, $numHosts=10, $repetition=0") into its point (the others,
// in their order) and its repetition (0 when it has none).
func pointOf(vars string) (point string, rep int) {
	var rest []string
	for _, kv := range splitVars(vars) {
		if v, ok := strings.CutPrefix(kv, "$repetition="); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				rep = n
				continue
			}
		}
		rest = append(rest, kv)
	}
	return strings.Join(rest, ", "), rep
}

// splitVars cuts "$a=1, $b=x, y, $c=2" at each ", $" (a value may hold a
// comma).
func splitVars(vars string) []string {
	vars = strings.TrimSpace(vars)
	if vars == "" {
		return nil
	}
	parts := strings.Split(vars, ", $")
	for i := 1; i < len(parts); i++ {
		parts[i] = "$" + parts[i]
	}
	return parts
}
