package campaign

import (
	"context"
	"testing"

	"github.com/simswarm/simswarm/api/schema"
)

// The pass that creates a campaign's first run records also dispatches
// them (the window records not yet created left): a million-run
// campaign's first task waited one more pass, 0.2-0.4 s, for them.
func TestFirstRecordsAreDispatchedInThePassThatCreatesThem(t *testing.T) {
	e := newEnv(t)
	e.r.Shares.SetSlots(2)
	ctx := context.Background()
	uid := e.buildDone(t, "first", "0..2999").Metadata.UID
	e.reconcile(t, "first") // the first records, and their dispatch

	n, err := e.st.DB.Collection(schema.CollRuns).CountDocuments(ctx, map[string]any{"campaign": "first"})
	if err != nil || n != firstChunk {
		t.Fatalf("%d records after the pass (%v), want the first chunk of %d", n, err, firstChunk)
	}
	live := e.tasks(t, "first", uid)
	if len(live) == 0 {
		t.Fatal("no run in the queue after the pass that created the first records")
	}
	for run := range live {
		if run < 0 || run >= firstChunk {
			t.Errorf("run %d dispatched, which has no record yet", run)
		}
	}
	// The next pass neither sends them again nor loses the frontier.
	before := len(live)
	e.reconcile(t, "first")
	if got := e.tasks(t, "first", uid); len(got) < before {
		t.Fatalf("%d runs in the queue after the next pass, %d before", len(got), before)
	}
	seen := map[int]bool{}
	for _, runs := range e.queuedBatches(t) {
		for _, r := range runs {
			if seen[r] {
				t.Errorf("run %d dispatched twice", r)
			}
			seen[r] = true
		}
	}
}
