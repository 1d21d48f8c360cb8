package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// TestRetrySendsFailedRunsBack: `simswarm retry` moves exactly the failed
// runs of a campaign back to Pending (attempts kept) and says how many; an
// unknown campaign is an error naming it.
func TestRetrySendsFailedRunsBack(t *testing.T) {
	_, mongoURI := startController(t)
	mustCLI(t, "apply", "-f", writeManifest(t, t.TempDir(), "aloha"))
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	var uid string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := st.Get(ctx, "aloha")
		if err == nil && c.Status.Runs.Total == 6 {
			uid = c.Metadata.UID
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reconciled: %v", err)
		}
	}
	// The records as the controller creates them once the program has
	// listed the runs (the build stays pending: nothing dispatches them or
	// retries them behind the command's back).
	if n, err := st.CreateRuns(ctx, "aloha", uid, []int{0, 1, 2, 3, 4, 5}); n != 6 || err != nil {
		t.Fatalf("CreateRuns = %d, %v", n, err)
	}
	for _, run := range []int{1, 4} {
		if ok, err := st.SetRunState(ctx, store.RunID("aloha", uid, run), schema.RunPending, schema.RunFailed, "boom"); !ok || err != nil {
			t.Fatalf("fail run %d: %v %v", run, ok, err)
		}
	}
	out := mustCLI(t, "retry", "aloha")
	if !strings.Contains(out, "2 failed runs of aloha sent back to the queue") {
		t.Fatalf("retry said %q", out)
	}
	for _, run := range []int{1, 4} {
		r, err := st.GetRun(ctx, "aloha", uid, run)
		if err != nil || r.State == schema.RunFailed {
			t.Errorf("run %d after retry: %+v %v", run, r, err)
		}
	}
	if _, err := cli(t, "retry", "nosuch"); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("retry of an unknown campaign: %v", err)
	}
}
