package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
)

// TestSummaryShowsWhyACampaignIsDegraded: the campaigns list shows one
// reason and message per campaign; while workers fail (Degraded) that is
// the failure, not the Ready condition's "running".
func TestSummaryShowsWhyACampaignIsDegraded(t *testing.T) {
	c := &api.Campaign{Metadata: api.ObjectMeta{Name: "c"}, Status: api.CampaignStatus{Phase: api.PhaseRunning,
		Conditions: []api.Condition{
			{Type: api.ConditionReady, Status: api.ConditionFalse, Reason: "Running", Message: "running"},
			{Type: api.ConditionDegraded, Status: api.ConditionTrue, Reason: "TaskRetrying",
				Message: "run 3: artifact for run: open artifact: connection refused (1 run; the queue retries it)"},
		}}}
	s := summarize(c, nil, time.Now())
	if s.Reason != "TaskRetrying" || !strings.Contains(s.Message, "connection refused") {
		t.Fatalf("summary says %s: %s, want the worker's failure", s.Reason, s.Message)
	}
	c.Status.Conditions[1].Status = api.ConditionFalse
	if s := summarize(c, nil, time.Now()); s.Reason != "Running" {
		t.Fatalf("summary says %s: %s once no longer degraded, want Running", s.Reason, s.Message)
	}
}
