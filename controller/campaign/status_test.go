package campaign

import (
	"context"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
)

// TestQueueOutageShowsInTheStatusAndClears: while the queue's Redis is
// down every pass fails; the campaign's status says so, with the error's
// reason, instead of the last "Running n/m" that only the logs would
// contradict; once Redis is back, the next pass clears it and rebuilds
// the queue.
func TestQueueOutageShowsInTheStatusAndClears(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid := e.built(t, "outage", "0..9").Metadata.UID

	e.rs.Stop()
	if _, err := e.r.Reconcile(ctx, "outage"); err == nil {
		t.Fatal("a pass with Redis down succeeded; want its error returned (retried with backoff)")
	}
	c, _ := e.st.Get(ctx, "outage")
	ready := cond(c.Status, api.ConditionReady)
	if ready.Status != api.ConditionFalse || ready.Reason != ReasonQueueUnavailable || !strings.Contains(ready.Message, "refused") {
		t.Fatalf("Ready with Redis down: %+v, want False/%s with the error", ready, ReasonQueueUnavailable)
	}
	if rc := cond(c.Status, api.ConditionReconciling); rc.Status != api.ConditionTrue || rc.Reason != ReasonRetrying {
		t.Fatalf("Reconciling with Redis down: %+v, want True/%s", rc, ReasonRetrying)
	}
	// Failing again writes nothing new.
	rv := c.Metadata.ResourceVersion
	_, _ = e.r.Reconcile(ctx, "outage")
	if c, _ = e.st.Get(ctx, "outage"); c.Metadata.ResourceVersion != rv {
		t.Fatalf("a second failing pass rewrote the same status: rv %s -> %s", rv, c.Metadata.ResourceVersion)
	}

	e.rs.Start(t)
	e.reconcile(t, "outage")
	c, _ = e.st.Get(ctx, "outage")
	if ready := cond(c.Status, api.ConditionReady); ready.Reason == ReasonQueueUnavailable || c.Status.Phase != api.PhaseRunning {
		t.Fatalf("after Redis came back: phase %s, Ready %+v", c.Status.Phase, ready)
	}
	if rc := cond(c.Status, api.ConditionReconciling); rc.Reason == ReasonRetrying {
		t.Fatalf("after Redis came back: Reconciling %+v", rc)
	}
	if got := len(e.tasks(t, "outage", uid)); got != 10 {
		t.Fatalf("after Redis came back: %d tasks, want the 10 runs queued again", got)
	}
}
