package runlist

import (
	"context"
	"fmt"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// The cache answers a campaign's variables by run number from its build's
// list, reads a list's file once (a list written again is read again),
// keeps at most MaxRuns runs, and has nothing for a campaign without a
// list or whose list failed.
func TestCacheVarsOfCampaign(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	camp := func(key, config string) *api.Campaign {
		c := &api.Campaign{Spec: api.CampaignSpec{Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: config}}}
		c.Status.Build.Key = key
		return c
	}
	save := func(key, config string, n, step int, tag string) {
		t.Helper()
		runs := make([]oppcli.RunInfo, n)
		for i := range runs {
			runs[i] = oppcli.RunInfo{Number: step * i, Vars: fmt.Sprintf("$numHosts=%d, $repetition=%d%s", 10+i/2, i%2, tag)}
		}
		if err := Save(ctx, db, ID(key, QueryOf(camp(key, config).Spec.Simulation)), key, runs); err != nil {
			t.Fatal(err)
		}
	}
	c := &Cache{DB: db, MaxRuns: 10}
	if v, err := c.OfCampaign(ctx, camp("k1", "A")); v != nil || err != nil {
		t.Fatalf("no list yet: %v %v", v, err)
	}
	save("k1", "A", 6, 3, "")
	v, err := c.OfCampaign(ctx, camp("k1", "A"))
	if err != nil || v.Len() != 6 || v.Of(9) != "$numHosts=11, $repetition=1" || v.Of(4) != "" || v.Of(100) != "" {
		t.Fatalf("k1/A: %v len %d, run 9 %q, run 4 %q", err, v.Len(), v.Of(9), v.Of(4))
	}
	if v2, _ := c.OfCampaign(ctx, camp("k1", "A")); v2 != v {
		t.Error("the same list was read again")
	}
	// Written again (another file): read again.
	save("k1", "A", 6, 3, " (new)")
	if v2, _ := c.OfCampaign(ctx, camp("k1", "A")); v2.Of(0) != "$numHosts=10, $repetition=0 (new)" {
		t.Errorf("after the list was rewritten: %q", v2.Of(0))
	}
	// A second list of 6 runs pushes the first out (10 runs at most).
	save("k2", "B", 6, 1, "")
	if v, _ := c.OfCampaign(ctx, camp("k2", "B")); v.Of(5) != "$numHosts=12, $repetition=1" {
		t.Errorf("k2/B run 5: %q", v.Of(5))
	}
	if c.runs != 6 || len(c.entries) != 1 {
		t.Errorf("cache holds %d runs in %d lists, want 6 in 1", c.runs, len(c.entries))
	}
	// Longer than the bound: answered, not kept.
	save("k3", "C", 11, 1, "")
	if v, _ := c.OfCampaign(ctx, camp("k3", "C")); v.Len() != 11 || c.runs != 6 {
		t.Errorf("k3/C: %d runs, cache %d", v.Len(), c.runs)
	}
	if err := SaveFailure(ctx, db, ID("k4", QueryOf(camp("k4", "D").Spec.Simulation)), "k4", "<!> Error: no such config"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.OfCampaign(ctx, camp("k4", "D")); v != nil || err != nil {
		t.Errorf("failed list: %v %v", v, err)
	}
}
