package campaign

import (
	"strconv"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// What Compute does with a stop rule, beside its usual policy (pure).

// stopPlan decides the stop rule's pass (nil without a rule, or while
// the points are not known): it drops from o.Retryable the failed runs it
// skips instead, and counts the runs it skips in counts, as the
// controller's own transitions. While suspended it only reports the
// points: nothing is skipped or dispatched.
func stopPlan(o *Observed, buildDone bool, counts *api.RunCounts) *StopPlan {
	if o.Stop == nil || o.Spec.Stop == nil || !buildDone || o.SpecErr != nil {
		return nil
	}
	p := decideStop(*o.Stop, o.Pool.Slots)
	if o.Spec.Suspend {
		p.Skip, p.Order = nil, nil
		return &p
	}
	failed := map[int]bool{}
	for _, sk := range p.Skip {
		counts.Skipped++
		switch sk.From {
		case schema.RunPending:
			counts.Pending--
		case schema.RunFailed:
			counts.Failed--
			failed[sk.Run] = true
		}
	}
	if len(failed) > 0 {
		var keep []schema.RunRecord
		for _, f := range o.Retryable {
			if !failed[f.Run] {
				keep = append(keep, f)
			}
		}
		o.Retryable = keep
	}
	return &p
}

// stopDemand bounds a campaign's demand on the window by what its stop
// rule lets it dispatch: its runs in flight and the plan's order (only
// those while the points are not known yet).
func stopDemand(o Observed, p *StopPlan, demand int) int {
	switch {
	case o.Spec.Stop == nil:
		return demand
	case p == nil:
		return min(demand, o.Inflight)
	}
	return min(demand, o.Inflight+len(p.Order))
}

// stopSettled reports whether the plan changes no record: a campaign is
// declared finished only on a pass that skips nothing (the next pass
// counts what the skips did).
func stopSettled(p *StopPlan) bool { return p == nil || len(p.Skip) == 0 }

// stopPoints is status.points: the plan's, what the status had while the
// points are not known, none without a rule.
func stopPoints(o Observed, p *StopPlan) *api.PointsStatus {
	switch {
	case o.Spec.Stop == nil:
		return nil
	case p != nil:
		pts := p.Points
		return &pts
	}
	return o.Status.Points
}

// stopSummary is what the Ready condition adds with a stop rule: the runs
// skipped and the points converged.
func stopSummary(c api.RunCounts, pts *api.PointsStatus) string {
	if pts == nil {
		return ""
	}
	s := ""
	if c.Skipped > 0 {
		s = ", " + strconv.FormatInt(c.Skipped, 10) + " skipped"
	}
	return s + "; " + strconv.FormatInt(pts.Converged, 10) + " of " + strconv.FormatInt(pts.Total, 10) + " points converged"
}
