package campaign

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// createWithRuns stores a suspended campaign and n Pending run records
// straight through the store (what the reconciler would create over many
// passes).
func (e *env) createWithRuns(t *testing.T, name string, n int) *api.Campaign {
	t.Helper()
	ctx := context.Background()
	cp := newCampaign(name, "0..99")
	cp.Spec.Suspend = true
	c, err := e.st.Create(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	runs := make([]int, n)
	for i := range runs {
		runs[i] = i
	}
	if got, err := e.st.CreateRuns(ctx, name, c.Metadata.UID, runs); err != nil || got != n {
		t.Fatalf("CreateRuns = %d, %v", got, err)
	}
	return c
}

func (e *env) runDocs(t *testing.T, filter bson.M) int64 {
	t.Helper()
	n, err := e.st.DB.Collection(schema.CollRuns).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// reconcileUntilGone reconciles name until its campaign object is gone
// and returns how many passes it took and the longest one.
func (e *env) reconcileUntilGone(t *testing.T, r *Reconciler, name string, limit time.Duration) (passes int, longest time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	for {
		start := time.Now()
		if _, err := r.Reconcile(ctx, name); err != nil {
			t.Fatalf("reconcile %s (pass %d): %v", name, passes+1, err)
		}
		passes++
		longest = max(longest, time.Since(start))
		if _, err := e.st.Get(ctx, name); errors.Is(err, store.ErrNotFound) {
			return passes, longest
		} else if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not deleted after %v (%d passes)", name, limit, passes)
		}
	}
}

// A 100,000-run campaign is deleted completely, in passes of bounded
// length, on FerretDB (where one DeleteMany of all its records failed with
// "too many SQL variables" and was retried forever).
func TestDeleteHundredThousandRunsInBoundedPasses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 100_000
	c := e.createWithRuns(t, "big", n)
	other := e.createWithRuns(t, "other", 10)
	uid := c.Metadata.UID

	if err := e.st.Delete(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	// The object stays, marked, until its records are gone.
	got, err := e.st.Get(ctx, "big")
	if err != nil || got.Metadata.DeletionTimestamp == nil {
		t.Fatalf("campaign being deleted: %+v %v", got, err)
	}
	start := time.Now()
	e.reconcile(t, "big")
	got, err = e.st.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != api.PhaseDeleting || got.Status.Deletion == nil || got.Status.Deletion.RunsRemoved <= 0 {
		t.Fatalf("status after the first deleting pass shows no progress: %+v", got.Status)
	}
	passes, longest := e.reconcileUntilGone(t, e.r, "big", 5*time.Minute)
	took := time.Since(start)
	t.Logf("deleted %d run records in %v, %d passes, longest pass %v", n, took, passes+1, longest)
	if left := e.runDocs(t, bson.M{"campaign": "big"}); left != 0 {
		t.Fatalf("%d run records of the deleted campaign left", left)
	}
	if cnt := e.counts(t, "big", uid); cnt.Total != 0 {
		t.Fatalf("counts after delete: %+v", cnt)
	}
	if left := e.runDocs(t, bson.M{"campaign": "other"}); left != 10 {
		t.Fatalf("other campaign has %d records, want 10", left)
	}
	if _, err := e.st.Get(ctx, "other"); err != nil {
		t.Fatalf("other campaign: %v", err)
	}
	_ = other
	// A pass is at least one batch: on stock FerretDB a scan of the whole
	// collection (its _id index is unusable), seconds for 100,000 records
	// on a loaded machine; far from the minutes one statement took.
	if longest > time.Minute {
		t.Fatalf("a deleting pass took %v: passes must stay bounded", longest)
	}
	if passes < n/store.DeleteBatch/2 {
		t.Fatalf("%d passes for %d records: not in batches of at most %d", passes, n, store.DeleteBatch)
	}
}

// A controller that dies halfway through a delete leaves its progress in
// the store: a new one (fresh memory) finishes it.
func TestDeleteResumesAfterControllerRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 5000
	c := e.createWithRuns(t, "half", n)
	if err := e.st.Delete(ctx, "half"); err != nil {
		t.Fatal(err)
	}
	first := &Reconciler{Store: e.st, Tasks: e.q, Shares: NewShares(32), Epoch: 1, Expander: e.r.Expander,
		DeleteBatch: 1000, DeletePassBudget: time.Nanosecond}
	if _, err := first.Reconcile(ctx, "half"); err != nil {
		t.Fatal(err)
	}
	left := e.runDocs(t, bson.M{"campaign": "half"})
	if left != n-1000 {
		t.Fatalf("after one bounded pass %d records left, want %d", left, n-1000)
	}
	got, _ := e.st.Get(ctx, "half")
	if got.Status.Deletion == nil || got.Status.Deletion.RunsRemoved != 1000 {
		t.Fatalf("progress not in status: %+v", got.Status)
	}
	// first is gone (killed); a new controller with no memory of it.
	second := &Reconciler{Store: e.st, Tasks: e.q, Shares: NewShares(32), Epoch: 2, Expander: e.r.Expander,
		DeleteBatch: 1000, DeletePassBudget: time.Nanosecond}
	passes, _ := e.reconcileUntilGone(t, second, "half", time.Minute)
	if passes < 4 {
		t.Fatalf("finished in %d passes: the budget did not bound them", passes)
	}
	if left := e.runDocs(t, bson.M{"campaign": "half"}); left != 0 {
		t.Fatalf("%d records left after the restarted controller finished", left)
	}
	rs, err := e.st.GetResultSet(ctx, c.Metadata.UID)
	if err != nil || rs.Name != "half" || rs.State != schema.ResultSetKept {
		t.Fatalf("result set of the deleted campaign: %+v %v", rs, err)
	}
}

// A campaign being deleted refuses changes: re-applying its name waits
// until the old object is gone.
func TestDeletingCampaignRefusesUpdates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.createWithRuns(t, "busy", 10)
	if err := e.st.Delete(ctx, "busy"); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.st.Apply(ctx, newCampaign("busy", "0..3"))
	if !errors.Is(err, store.ErrDeleting) {
		t.Fatalf("apply to a campaign being deleted: %v, want ErrDeleting", err)
	}
	e.reconcileUntilGone(t, e.r, "busy", time.Minute)
	if _, created, err := e.st.Apply(ctx, newCampaign("busy", "0..3")); err != nil || !created {
		t.Fatalf("apply after the delete finished: created=%v %v", created, err)
	}
}
