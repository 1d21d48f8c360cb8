package campaign

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
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

// TestQueueOutageWhileDeletingShowsInTheStatus: a campaign deleted while
// its queue's Redis is down cannot unqueue its tasks; its status says so
// (not the last progress it showed), a deposed leader's failing pass
// still writes nothing, and once Redis is back the delete shows its
// progress again and completes: the object, its records and its tasks
// are gone.
func TestQueueOutageWhileDeletingShowsInTheStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid := e.built(t, "doomed", "0..9").Metadata.UID
	if got := len(e.tasks(t, "doomed", uid)); got != 10 {
		t.Fatalf("%d tasks queued before the delete, want 10", got)
	}
	if err := e.st.Delete(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}

	e.rs.Stop()
	if _, err := e.r.Reconcile(ctx, "doomed"); err == nil {
		t.Fatal("a delete pass with Redis down succeeded; want its error returned (retried with backoff)")
	}
	c, err := e.st.Get(ctx, "doomed")
	if err != nil {
		t.Fatalf("campaign deleted with its tasks still queued: %v", err)
	}
	ready := cond(c.Status, api.ConditionReady)
	if ready.Status != api.ConditionFalse || ready.Reason != ReasonQueueUnavailable || !strings.Contains(ready.Message, "refused") {
		t.Fatalf("Ready of a delete with Redis down: %+v, want False/%s with the error", ready, ReasonQueueUnavailable)
	}
	if rc := cond(c.Status, api.ConditionReconciling); rc.Status != api.ConditionTrue || rc.Reason != ReasonRetrying {
		t.Fatalf("Reconciling of a delete with Redis down: %+v, want True/%s", rc, ReasonRetrying)
	}
	if n := e.runDocs(t, bson.M{"campaign": "doomed"}); n != 10 {
		t.Fatalf("%d run records left after a failed first delete pass, want 10 (nothing removed before unqueueing)", n)
	}
	// Failing again writes nothing new.
	rv := c.Metadata.ResourceVersion
	_, _ = e.r.Reconcile(ctx, "doomed")
	if c, _ = e.st.Get(ctx, "doomed"); c.Metadata.ResourceVersion != rv {
		t.Fatalf("a second failing delete pass rewrote the same status: rv %s -> %s", rv, c.Metadata.ResourceVersion)
	}

	// A newer leader wrote the status; the old one's failing pass is
	// fenced and changes nothing.
	newer := c.Status
	newer.Conditions = nil
	newer.SourceRevision = "written-by-the-newer-leader"
	if err := e.st.UpdateStatus(ctx, "doomed", uid, newer, 2); err != nil {
		t.Fatal(err)
	}
	c, _ = e.st.Get(ctx, "doomed")
	rv = c.Metadata.ResourceVersion
	if _, err := e.r.Reconcile(ctx, "doomed"); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("deposed leader's failing delete pass: %v, want fenced", err)
	}
	if c, _ = e.st.Get(ctx, "doomed"); c.Metadata.ResourceVersion != rv || c.Status.SourceRevision != newer.SourceRevision ||
		len(c.Status.Conditions) != 0 {
		t.Fatalf("a deposed leader's failing delete pass wrote its status: rv %s -> %s, %+v", rv, c.Metadata.ResourceVersion, c.Status)
	}

	// The newer leader, once Redis is back: the failure clears, the
	// progress shows, and the delete completes.
	e.rs.Start(t)
	r := &Reconciler{Store: e.st, Tasks: e.q, Shares: NewShares(32), Epoch: 2, Expander: e.r.Expander,
		DeleteBatch: 4, DeletePassBudget: time.Nanosecond}
	if _, err := r.Reconcile(ctx, "doomed"); err != nil {
		t.Fatalf("delete pass after Redis came back: %v", err)
	}
	c, err = e.st.Get(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status.Phase != api.PhaseDeleting || c.Status.Deletion == nil || c.Status.Deletion.RunsRemoved != 4 {
		t.Fatalf("status after the first good delete pass: %+v, want Deleting with 4 run records removed", c.Status)
	}
	if ready := cond(c.Status, api.ConditionReady); ready.Reason != ReasonDeleting {
		t.Fatalf("Ready after Redis came back: %+v, want reason %s", ready, ReasonDeleting)
	}
	if rc := cond(c.Status, api.ConditionReconciling); rc.Status != api.ConditionTrue || rc.Reason != ReasonDeleting {
		t.Fatalf("Reconciling after Redis came back: %+v, want True/%s", rc, ReasonDeleting)
	}
	if got := len(e.tasks(t, "doomed", uid)); got != 0 {
		t.Fatalf("%d tasks of the deleted campaign still queued", got)
	}
	e.reconcileUntilGone(t, r, "doomed", time.Minute)
	if n := e.runDocs(t, bson.M{"campaign": "doomed"}); n != 0 {
		t.Fatalf("%d run records of the deleted campaign left", n)
	}
	if rs, err := e.st.GetResultSet(ctx, uid); err != nil || rs.State != schema.ResultSetKept {
		t.Fatalf("result set of the deleted campaign: %+v %v", rs, err)
	}
}
