package aws

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func sortRules(rs []Rule) []Rule {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// TestClusterSecurityGroupHasExactlyTheIntendedRules: swarm ports only from the
// group itself, SSH only from the given network, the default egress and
// nothing else; a rule someone added is revoked by the next up.
func TestClusterSecurityGroupHasExactlyTheIntendedRules(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	if _, err := p.Up(ctx, testSpec("sg")); err != nil {
		t.Fatal(err)
	}
	read := func() ec2types.SecurityGroup {
		out, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{names{"sg"}.ec2Filter()}})
		if err != nil || len(out.SecurityGroups) != 1 {
			t.Fatalf("security groups: %v %v", out, err)
		}
		return out.SecurityGroups[0]
	}
	sg := read()
	want := []Rule{
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "203.0.113.7/32"},
		{Protocol: "tcp", FromPort: 2377, ToPort: 2377, SelfGroup: true},
		{Protocol: "tcp", FromPort: 7946, ToPort: 7946, SelfGroup: true},
		{Protocol: "udp", FromPort: 4789, ToPort: 4789, SelfGroup: true},
		{Protocol: "udp", FromPort: 7946, ToPort: 7946, SelfGroup: true},
	}
	if got := sortRules(GroupRules(sg)); !slices.Equal(got, sortRules(want)) {
		t.Fatalf("ingress rules:\n got %v\nwant %v", got, sortRules(want))
	}
	// The raw permissions name the group's own id as the swarm source.
	for _, perm := range sg.IpPermissions {
		for _, pair := range perm.UserIdGroupPairs {
			if aws.ToString(pair.GroupId) != aws.ToString(sg.GroupId) {
				t.Errorf("swarm port %d from group %s, not the group itself", aws.ToInt32(perm.FromPort), aws.ToString(pair.GroupId))
			}
		}
	}
	if len(sg.IpPermissionsEgress) != 1 || aws.ToString(sg.IpPermissionsEgress[0].IpProtocol) != "-1" {
		t.Errorf("egress: %+v, want the default allow-all only", sg.IpPermissionsEgress)
	}

	// Somebody opens the API port to the world; up takes it back.
	if _, err := p.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(ctx, testSpec("sg"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes() != 1 || !hasAction(res.Actions, OpDelete, "ingress rule") {
		t.Errorf("up after a foreign rule:\n%s", res.Plan)
	}
	if got := sortRules(GroupRules(read())); !slices.Equal(got, sortRules(want)) {
		t.Fatalf("ingress rules after up:\n got %v\nwant %v", got, sortRules(want))
	}
}
