package aws

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// inventory counts a cluster's resources as the emulator holds them,
// asking each service directly (not through the code under test's
// lookups).
type inventory struct {
	KeyPairs, SecurityGroups, LaunchTemplates, Managers, Workers int
	Groups, Policies, Alarms, Roles, Profiles, Parameters        int
}

func (p *Provider) inventory(t *testing.T, cluster string) inventory {
	t.Helper()
	ctx := context.Background()
	n := names{cluster}
	var inv inventory
	tag := []ec2types.Filter{n.ec2Filter()}
	kp, err := p.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: tag})
	must(t, err)
	inv.KeyPairs = len(kp.KeyPairs)
	sg, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: tag})
	must(t, err)
	inv.SecurityGroups = len(sg.SecurityGroups)
	lt, err := p.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: tag})
	must(t, err)
	inv.LaunchTemplates = len(lt.LaunchTemplates)
	is, err := p.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: append(tag,
		ec2types.Filter{Name: aws.String("instance-state-name"), Values: liveStates})})
	must(t, err)
	for _, r := range is.Reservations {
		for _, i := range r.Instances {
			if ec2Tag(i.Tags, TagRole) == RoleManager {
				inv.Managers++
			} else {
				inv.Workers++
			}
		}
	}
	gs, err := p.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	must(t, err)
	for _, g := range gs.AutoScalingGroups {
		if groupIsOurs(&g, n) {
			inv.Groups++
		}
	}
	pols, err := p.asg.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String(n.asg())})
	if err == nil {
		inv.Policies = len(pols.ScalingPolicies)
	}
	as, err := p.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(n.prefix() + "-")})
	must(t, err)
	inv.Alarms = len(as.MetricAlarms)
	roles, err := p.iam.ListRoles(ctx, &iam.ListRolesInput{})
	must(t, err)
	for _, r := range roles.Roles {
		got, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: r.RoleName})
		must(t, err)
		if iamHasTag(got.Role.Tags, TagCluster, cluster) {
			inv.Roles++
		}
	}
	profs, err := p.iam.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	must(t, err)
	for _, pr := range profs.InstanceProfiles {
		if iamHasTag(pr.Tags, TagCluster, cluster) {
			inv.Profiles++
		}
	}
	if _, err := p.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(n.tokenParameter())}); err == nil {
		inv.Parameters++
	} else if !isCode(err, "ParameterNotFound") {
		t.Fatal(err)
	}
	return inv
}

// fullCluster is the inventory of a cluster with workers workers.
func fullCluster(workers int) inventory {
	return inventory{KeyPairs: 1, SecurityGroups: 1, LaunchTemplates: 2, Managers: 1, Workers: workers,
		Groups: 1, Policies: 1, Alarms: 1, Roles: 2, Profiles: 2, Parameters: 1}
}

// motoState is moto's whole state dump, for comparisons.
func motoState(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url + "/moto-api/data.json")
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
