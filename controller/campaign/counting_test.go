package campaign

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
)

// TestLongCampaignPassesCreateAndCountOnlyWhatTheyNeed: passes over a
// 24,000-run campaign whose queue the workers empty between passes (short
// runs) create records only a lead ahead of dispatch, not 5,000 more every
// pass, and count the records (a scan of the campaign on FerretDB) only
// when the campaign may have finished, not on every empty queue while
// most runs were never dispatched. (Before: every pass created a chunk
// and counted; the scale harness measured 1-2 s passes, 11-40 runs/s.)
func TestLongCampaignPassesCreateAndCountOnlyWhatTheyNeed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	e.r.Now = func() time.Time { return now } // counts never age: only forced counts happen
	const total = 24_000
	c := e.built(t, "long", "0..23999")
	uid := c.Metadata.UID
	runs := e.st.DB.Collection(schema.CollRuns)
	counted := 0
	dispatched := 0
	for pass := range 4 {
		tasks := e.tasks(t, "long", uid)
		if len(tasks) == 0 {
			t.Fatalf("pass %d: nothing dispatched", pass)
		}
		lo, hi := total, -1
		for run := range tasks {
			lo, hi = min(lo, run), max(hi, run)
		}
		dispatched += len(tasks)
		// The workers ran them all: records Succeeded, queue empty.
		if _, err := runs.UpdateMany(ctx, bson.M{"campaign": "long", "uid": uid, "run": bson.M{"$gte": lo, "$lte": hi}},
			bson.M{"$set": bson.M{"state": schema.RunSucceeded}}); err != nil {
			t.Fatal(err)
		}
		if err := e.rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		before := e.r.states["long"].counts.at
		now = now.Add(time.Millisecond)
		e.reconcile(t, "long")
		if e.r.states["long"].counts.at != before {
			counted++
		}
	}
	if counted > 0 {
		t.Errorf("%d of 4 passes counted the records while %d of %d runs were never dispatched", counted, total-dispatched, total)
	}
	n := e.counts(t, "long", uid)
	if limit := int64(dispatched + recordLead + createPerPass); n.Total > limit {
		t.Errorf("%d run records created after %d runs were dispatched, want at most %d (a lead ahead of dispatch)", n.Total, dispatched, limit)
	}
	c, _ = e.st.Get(ctx, "long")
	if c.Status.Runs.Total != total {
		t.Errorf("status counts %d runs, want all %d (records not created yet count as pending)", c.Status.Runs.Total, total)
	}
}
