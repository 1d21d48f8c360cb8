package scale

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// TestHarnessSmall: the harness at a size the suite affords - a campaign
// of 1,000 runs on 4 simulated runners of 4 slots runs to Succeeded
// through the real controller, queue and runner code; every run is
// simulated exactly once by a timer (no process), stores its one result
// file, and no worker runs more than its slots at once; the measurement
// sees the work on every server.
func TestHarnessSmall(t *testing.T) {
	const runs, workers, slots = 1000, 4, 4
	h := Start(t, Options{IDIndex: true})
	h.Builder(t)
	f := h.Fleet(t, FleetOptions{Workers: workers, Slots: slots, RunTime: 10 * time.Millisecond})
	h.Apply(t, "small", runs)
	m := h.Measure(t, f, runs, 500*time.Millisecond, 5*time.Second)
	t.Log(m)
	if m.Runs == 0 || m.RunsPerSec <= 0 || m.ControllerCPU <= 0 || m.RedisOpsPerSec <= 0 || m.MongoCPU <= 0 ||
		m.ControllerRSS <= 0 || len(m.Commands) == 0 || m.RedisClients <= workers || m.MongoConns < workers || m.Workers != workers || m.Slots != slots {
		t.Errorf("measurement %+v misses the work of a server", m)
	}

	ctx := context.Background()
	deadline := time.Now().Add(90 * time.Second)
	var cp *api.Campaign
	for {
		var err error
		if cp, err = h.Client.Get(ctx, "small"); err != nil {
			t.Fatal(err)
		}
		if cp.Status.Phase == api.PhaseSucceeded || cp.Status.Phase == api.PhaseFailed || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if cp.Status.Phase != api.PhaseSucceeded || cp.Status.Runs.Succeeded != runs {
		t.Fatalf("campaign %s with runs %+v, want Succeeded with %d", cp.Status.Phase, cp.Status.Runs, runs)
	}
	sims := map[string]int{}
	for _, w := range f.Workers {
		for r, n := range w.Timer.Simulated() {
			sims[r] += n
		}
	}
	var twice []string
	for r, n := range sims {
		if n != 1 {
			twice = append(twice, fmt.Sprintf("%s:%d", r, n))
		}
	}
	if len(sims) != runs || len(twice) > 0 {
		t.Errorf("%d runs simulated (in %d invocations), want %d exactly once each; more or less than once: %v", len(sims), f.Calls(), runs, twice)
	}
	for _, w := range f.Workers {
		if p := w.Timer.Peak(); p > slots || p == 0 {
			t.Errorf("%s ran %d simulations at once, want 1..%d", w.Name, p, slots)
		}
	}
	mc, db, err := schema.Connect(ctx, h.MongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(ctx)
	n, err := db.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{})
	if err != nil || n != runs {
		t.Fatalf("%d result files stored (%v), want %d", n, err, runs)
	}
}
