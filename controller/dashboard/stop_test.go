package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
)

// TestSummaryCountsSkippedRunsAsFinished: a campaign whose stop rule
// skipped the runs it did not need is finished, not 40% done, and its
// points reach the page; the totals count its skipped runs; a page of
// runs can be filtered by Skipped.
func TestSummaryCountsSkippedRunsAsFinished(t *testing.T) {
	c := &api.Campaign{Metadata: api.ObjectMeta{Name: "s"}, Spec: api.CampaignSpec{Stop: &api.StopRule{Scalar: "A.b", RelativeHalfWidth: 0.05}},
		Status: api.CampaignStatus{Phase: api.PhaseSucceeded, Runs: api.RunCounts{Total: 10, Succeeded: 4, Skipped: 6},
			Points: &api.PointsStatus{Total: 2, Converged: 2}}}
	s := summarize(c, nil, time.Now())
	if s.Progress != 1 || s.Points == nil || s.Points.Converged != 2 {
		t.Fatalf("summary: progress %v, points %+v", s.Progress, s.Points)
	}
	var tot api.RunCounts
	addCounts(&tot, s.Runs)
	if tot.Skipped != 6 {
		t.Fatalf("totals %+v", tot)
	}
	if code := stateCode("Skipped"); code == stOther || !strings.Contains(strings.Join(stateNames[:stOther], ","), "Skipped") {
		t.Fatalf("Skipped is not a state of the run pages: %d", code)
	}
}

// TestPaceOfAStoppedCampaign: the runs a stop rule skipped are not left
// to run: a campaign whose every run succeeded or was skipped has nothing
// remaining.
func TestPaceOfAStoppedCampaign(t *testing.T) {
	if p := pace(api.RunCounts{Total: 10, Succeeded: 4, Skipped: 6}, nil, time.Now(), nil); p.ETASeconds != 0 {
		t.Fatalf("ETA of a finished campaign with skipped runs: %v, want 0", p.ETASeconds)
	}
}
