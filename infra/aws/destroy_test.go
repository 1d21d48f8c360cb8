package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
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
	if st, err := p.Status(ctx, "gone"); err != nil || st.Exists {
		t.Errorf("status after destroy: %+v %v", st, err)
	}
	if got := p.inventory(t, "other"); got != other {
		t.Errorf("the other cluster: %+v, was %+v", got, other)
	}
	// A leftover (here: a key pair) still makes the cluster exist, so
	// that status points at destroy.
	if _, err := p.ec2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("simswarm-gone"),
		TagSpecifications: names{"gone"}.ec2TagSpec(ec2types.ResourceTypeKeyPair, "simswarm-gone", "")}); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Status(ctx, "gone"); err != nil || !st.Exists {
		t.Errorf("status with a leftover key pair: %+v %v", st, err)
	}
	// The survivor still converges without changes.
	res, err := p.Up(ctx, testSpec("other"))
	if err != nil || res.Changes() != 0 {
		t.Errorf("up of the other cluster after destroy: %v\n%s", err, res.Plan)
	}
}
