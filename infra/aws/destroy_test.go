package aws

import (
	"context"
	"testing"
)

// TestClusterDestroyTwiceLeavesNothingAndSparesOtherClusters: destroy removes
// every tagged resource of its cluster, a second destroy finds nothing and
// succeeds, and the other cluster's resources are all still there.
func TestClusterDestroyTwiceLeavesNothingAndSparesOtherClusters(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	for _, c := range []string{"gone", "other"} {
		if _, err := p.Up(ctx, testSpec(c)); err != nil {
			t.Fatal(err)
		}
	}
	other := p.inventory(t, "other")
	if other != fullCluster(2) {
		t.Fatalf("other: %+v", other)
	}
	acts, err := p.Destroy(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) < 12 {
		t.Errorf("destroy did only %v", acts)
	}
	if got := p.inventory(t, "gone"); got != (inventory{}) {
		t.Errorf("after destroy: %+v", got)
	}
	acts, err = p.Destroy(ctx, "gone")
	if err != nil || len(acts) != 0 {
		t.Errorf("second destroy: %v %v", acts, err)
	}
	if got := p.inventory(t, "other"); got != other {
		t.Errorf("the other cluster: %+v, was %+v", got, other)
	}
	// The survivor still converges without changes.
	res, err := p.Up(ctx, testSpec("other"))
	if err != nil || res.Changes() != 0 {
		t.Errorf("up of the other cluster after destroy: %v\n%s", err, res.Plan)
	}
}
