package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestClusterUpTwiceCreatesOneSetOfResources: the second Up with the same spec
// finds everything, plans no change and makes no mutating call.
func TestClusterUpTwiceCreatesOneSetOfResources(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	first, err := p.Up(ctx, testSpec("twice"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Changes() == 0 || first.ManagerID == "" || first.PublicIP == "" || !strings.Contains(first.PrivateKey, "PRIVATE KEY") {
		t.Fatalf("first up: %s manager=%q ip=%q key=%d bytes", first.Plan, first.ManagerID, first.PublicIP, len(first.PrivateKey))
	}
	if got, want := p.inventory(t, "twice"), fullCluster(2); got != want {
		t.Fatalf("after the first up: %+v, want %+v", got, want)
	}
	e.ops.take()
	second, err := p.Up(ctx, testSpec("twice"))
	if err != nil {
		t.Fatal(err)
	}
	if m := mutating(e.ops.take()); len(m) > 0 {
		t.Errorf("second up called %v", m)
	}
	if second.Changes() != 0 {
		t.Errorf("second up changed things:\n%s", second.Plan)
	}
	if second.PrivateKey != "" || second.ManagerID != first.ManagerID {
		t.Errorf("second up: key %d bytes, manager %s (first %s)", len(second.PrivateKey), second.ManagerID, first.ManagerID)
	}
	if got, want := p.inventory(t, "twice"), fullCluster(2); got != want {
		t.Fatalf("after the second up: %+v, want %+v", got, want)
	}
}

// TestClusterUpConvergesAChangedSpec: more workers, another SSH source and
// another worker type change the group, the rule and the template in
// place; nothing is duplicated. (Two steps: moto 5.2 cannot launch from a
// launch template version made by CreateLaunchTemplateVersion - it trips
// over the version's user-data - so the count and the template change
// separately here.)
func TestClusterUpConvergesAChangedSpec(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	if _, err := p.Up(ctx, testSpec("conv")); err != nil {
		t.Fatal(err)
	}
	spec := testSpec("conv")
	spec.Workers, spec.SSHCIDR = 3, "198.51.100.0/24"
	res, err := p.Up(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ op, kind string }{{OpUpdate, "auto scaling group"}, {OpCreate, "ingress rule"}, {OpDelete, "ingress rule"}} {
		if !hasAction(res.Actions, want.op, want.kind) {
			t.Errorf("no %s %s in\n%s", want.op, want.kind, res.Plan)
		}
	}
	if got, want := p.inventory(t, "conv"), fullCluster(3); got != want {
		t.Fatalf("after the change: %+v, want %+v", got, want)
	}
	g, err := p.findGroup(ctx, names{"conv"})
	if err != nil || aws.ToInt32(g.DesiredCapacity) != 3 {
		t.Fatalf("group: %+v %v", g, err)
	}

	spec.WorkerType = "t3.large"
	res, err = p.Up(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes() != 1 || !hasAction(res.Actions, OpUpdate, "launch template") {
		t.Errorf("worker type change:\n%s", res.Plan)
	}
	lt, err := p.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(names{"conv"}.launchTemplate(RoleWorker)), Versions: []string{"$Default"}})
	if err != nil || len(lt.LaunchTemplateVersions) != 1 || lt.LaunchTemplateVersions[0].LaunchTemplateData.InstanceType != "t3.large" {
		t.Fatalf("default worker template version: %+v %v", lt, err)
	}
	if got, want := p.inventory(t, "conv"), fullCluster(3); got != want {
		t.Fatalf("after the type change: %+v, want %+v", got, want)
	}
	again, err := p.Up(ctx, spec)
	if err != nil || again.Changes() != 0 {
		t.Fatalf("up after converging: %v\n%s", err, again.Plan)
	}
}

// TestClusterUntaggedLookalikesAreNeverTouched: resources that carry a cluster's
// names but not its tag make Up refuse and Destroy skip them.
func TestClusterUntaggedLookalikesAreNeverTouched(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	n := names{"look"}
	if _, err := p.ec2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(n.keyPair())}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n.role(RoleManager)), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy),
		Tags: []iamtypes.Tag{{Key: aws.String(TagCluster), Value: aws.String("someone-else")}}}); err != nil {
		t.Fatal(err)
	}
	_, err := p.Up(ctx, testSpec("look"))
	if err == nil || !strings.Contains(err.Error(), "key pair simswarm-look exists but is not tagged simswarm:cluster=look") {
		t.Fatalf("up over an untagged key pair: %v", err)
	}
	acts, err := p.Destroy(ctx, "look")
	if err != nil {
		t.Fatal(err)
	}
	if !hasAction(acts, OpSkip, "IAM role") || hasAction(acts, OpDelete, "IAM role") || hasAction(acts, OpDelete, "key pair") {
		t.Fatalf("destroy: %v", acts)
	}
	if _, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(n.role(RoleManager))}); err != nil {
		t.Fatalf("the foreign role is gone: %v", err)
	}
	kp, err := p.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{n.keyPair()}})
	if err != nil || len(kp.KeyPairs) != 1 {
		t.Fatalf("the untagged key pair is gone: %v", err)
	}
}

// TestClusterImportedPublicKey: with a public key, the key pair is imported and
// no private key is handed back.
func TestClusterImportedPublicKey(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	spec := testSpec("imp")
	spec.PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuTNjS5UCbtd5ae1RcLzwy8oCg6JXdTaGnIZ3dzpZdM user@laptop"
	res, err := p.Up(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.PrivateKey != "" {
		t.Fatal("a private key came back for an imported public key")
	}
	kp, err := p.ec2.DescribeKeyPairs(context.Background(), &ec2.DescribeKeyPairsInput{Filters: []ec2types.Filter{names{"imp"}.ec2Filter()}})
	if err != nil || len(kp.KeyPairs) != 1 {
		t.Fatalf("key pairs: %v %v", kp, err)
	}
}
