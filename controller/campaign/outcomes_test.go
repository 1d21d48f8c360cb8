package campaign

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// TestReconcileOutcomes: what a pass returns tells the runtime what to do
// with the key. Success forgets its backoff and asks to look again after
// Requeue while the campaign is active, never once it converged; a
// transient error (the queue down) is returned as such, to be retried
// with backoff; a pass fenced by a newer leader returns store.ErrFenced
// (terminal for the runtime) and writes nothing, even when it failed too.
func TestReconcileOutcomes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid := e.built(t, "o", "0..3").Metadata.UID

	t.Run("success while active: look again after a poll", func(t *testing.T) {
		after, err := e.r.Reconcile(ctx, "o")
		if err != nil || after != poll {
			t.Fatalf("Reconcile = %v, %v; want %v, nil", after, err, poll)
		}
	})
	t.Run("transient: the error is returned for a retry with backoff", func(t *testing.T) {
		e.rs.Stop()
		defer e.rs.Start(t)
		after, err := e.r.Reconcile(ctx, "o")
		if err == nil || errors.Is(err, store.ErrFenced) || errorReason(err) != ReasonQueueUnavailable || after != 0 {
			t.Fatalf("Reconcile with Redis down = %v, %v; want a transient %s error", after, err, ReasonQueueUnavailable)
		}
	})
	t.Run("success once converged: nothing to look again for", func(t *testing.T) {
		if _, err := e.st.DB.Collection(schema.CollRuns).UpdateMany(ctx, bson.M{"campaign": "o", "uid": uid},
			bson.M{"$set": bson.M{"state": schema.RunSucceeded}}); err != nil {
			t.Fatal(err)
		}
		if err := e.rdb.FlushAll(ctx).Err(); err != nil { // the workers consumed the tasks
			t.Fatal(err)
		}
		after, err := e.r.Reconcile(ctx, "o")
		if err != nil || after != 0 {
			t.Fatalf("Reconcile of a finished campaign = %v, %v; want 0, nil", after, err)
		}
		if c, _ := e.st.Get(ctx, "o"); c.Status.Phase != api.PhaseSucceeded {
			t.Fatalf("phase %s, want Succeeded", c.Status.Phase)
		}
	})
	t.Run("fenced: a deposed leader writes nothing", func(t *testing.T) {
		c, _ := e.st.Get(ctx, "o")
		newer := c.Status
		newer.Phase = "written-by-epoch-5"
		newer.Runs = api.RunCounts{}
		if err := e.st.UpdateStatus(ctx, "o", uid, newer, 5); err != nil {
			t.Fatal(err)
		}
		c, _ = e.st.Get(ctx, "o")
		rv := c.Metadata.ResourceVersion
		for _, down := range []bool{false, true} {
			if down {
				e.rs.Stop() // the pass fails as well: still no write
			}
			if _, err := e.r.Reconcile(ctx, "o"); !errors.Is(err, store.ErrFenced) {
				t.Fatalf("deposed leader's pass (Redis down %v): %v, want store.ErrFenced", down, err)
			}
			if c, _ := e.st.Get(ctx, "o"); c.Metadata.ResourceVersion != rv || c.Status.Phase != newer.Phase {
				t.Fatalf("deposed leader's pass (Redis down %v) wrote: rv %s -> %s, phase %s", down, rv, c.Metadata.ResourceVersion, c.Status.Phase)
			}
		}
		e.rs.Start(t)
	})
}
