package campaign

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// TestDispatchStepsOverReusedRuns: when a later chunk of records is
// created while the dispatch frontier is known, half of them reused and
// interleaved with runs to run (as a grown repeat gives), no task is sent
// for a reused run, and the campaign finishes with only the others run.
func TestDispatchStepsOverReusedRuns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 1500
	// Stored runs of another campaign object with the identities of the
	// even runs from 1000 on (no files: nothing to copy).
	var donors []any
	for i := 1000; i < n; i += 2 {
		donors = append(donors, schema.RunRecord{ID: store.RunID("old", "u0", i), Campaign: "old", UID: "u0", Run: i,
			State: schema.RunSucceeded, Attempts: 1, Identity: ident("d")(i)})
	}
	if _, err := e.st.DB.Collection(schema.CollRuns).InsertMany(ctx, donors); err != nil {
		t.Fatal(err)
	}
	c := e.start(t, newCampaign("big", ""), n, func(i int) string {
		if i >= 1000 && i%2 == 0 {
			return ident("d")(i)
		}
		return ident("e")(i)
	})
	uid := c.Metadata.UID
	ran := 0
	for pass := 0; pass < 200; pass++ {
		tasks := e.tasks(t, "big", uid)
		for run := range tasks {
			if run >= 1000 && run%2 == 0 {
				t.Fatalf("pass %d: a task for run %d, which was reused", pass, run)
			}
			if _, err := e.st.DB.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": store.RunID("big", uid, run)},
				bson.M{"$set": bson.M{"state": schema.RunSucceeded, "attempts": 1, "durationMs": 5}}); err != nil {
				t.Fatal(err)
			}
			ran++
		}
		if err := e.rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		e.reconcile(t, "big")
		if got, _ := e.st.Get(ctx, "big"); got.Status.Phase == api.PhaseSucceeded {
			if ran != 1250 || got.Status.Runs.Reused != 250 || got.Status.Runs.Succeeded != n {
				t.Fatalf("ran %d, status %+v", ran, got.Status.Runs)
			}
			return
		}
	}
	t.Fatalf("not done; ran %d", ran)
}
