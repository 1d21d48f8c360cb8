package aws

import (
	"context"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// findGroup returns the cluster's worker group, nil if none.
func (p *Provider) findGroup(ctx context.Context, n names) (*astypes.AutoScalingGroup, error) {
	out, err := p.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{n.asg()}})
	if err != nil {
		return nil, wrap("describe auto scaling group "+n.asg(), err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == n.asg() {
			return &g, nil
		}
	}
	return nil, nil
}

func groupIsOurs(g *astypes.AutoScalingGroup, n names) bool {
	v, ok := asgTag(g.Tags, TagCluster)
	return ok && v == n.cluster
}

func (n names) asgTags(workers int) []astypes.Tag {
	tag := func(k, v string, propagate bool) astypes.Tag {
		return astypes.Tag{
			Key: aws.String(k), Value: aws.String(v), PropagateAtLaunch: aws.Bool(propagate),
			ResourceId: aws.String(n.asg()), ResourceType: aws.String("auto-scaling-group"),
		}
	}
	return []astypes.Tag{
		tag(TagCluster, n.cluster, true),
		tag(TagRole, RoleWorker, true),
		tag("Name", n.prefix()+"-worker", true),
		tag(tagWorkers, strconv.Itoa(workers), false),
	}
}

// workerGroup converges the Auto Scaling group of the workers: spec's
// count, the worker template's default version, the cluster's subnets.
func (r *run) workerGroup(ctx context.Context) error {
	name := r.n.asg()
	g, err := r.p.findGroup(ctx, r.n)
	if err != nil {
		return err
	}
	want := int32(r.spec.Workers)
	lt := &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(r.templates[RoleWorker]), Version: aws.String("$Default")}
	zones := strings.Join(r.subnets, ",")
	if g == nil {
		return r.act(Action{Op: OpCreate, Kind: "auto scaling group", Name: name, Note: strconv.Itoa(r.spec.Workers) + " x " + r.spec.WorkerType}, func() error {
			_, err := r.p.asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
				AutoScalingGroupName: aws.String(name), LaunchTemplate: lt,
				MinSize: aws.Int32(0), MaxSize: aws.Int32(want), DesiredCapacity: aws.Int32(want),
				VPCZoneIdentifier: aws.String(zones), Tags: r.n.asgTags(r.spec.Workers),
			})
			return wrap("create auto scaling group "+name, err)
		})
	}
	if !groupIsOurs(g, r.n) {
		return r.n.notOurs("auto scaling group", name)
	}
	r.groupExists = true
	same := aws.ToInt32(g.DesiredCapacity) == want && aws.ToInt32(g.MaxSize) == want && aws.ToInt32(g.MinSize) == 0 &&
		g.LaunchTemplate != nil && aws.ToString(g.LaunchTemplate.LaunchTemplateId) == r.templates[RoleWorker] &&
		aws.ToString(g.LaunchTemplate.Version) == "$Default" && sameSet(strings.Split(aws.ToString(g.VPCZoneIdentifier), ","), r.subnets)
	remembered, _ := asgTag(g.Tags, tagWorkers)
	if same && remembered == strconv.Itoa(r.spec.Workers) {
		return r.act(Action{Op: OpKeep, Kind: "auto scaling group", Name: name, Note: strconv.Itoa(r.spec.Workers) + " workers"}, nil)
	}
	note := "workers " + strconv.Itoa(int(aws.ToInt32(g.DesiredCapacity))) + " -> " + strconv.Itoa(r.spec.Workers)
	return r.act(Action{Op: OpUpdate, Kind: "auto scaling group", Name: name, Note: note}, func() error {
		if !same {
			if _, err := r.p.asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
				AutoScalingGroupName: aws.String(name), LaunchTemplate: lt,
				MinSize: aws.Int32(0), MaxSize: aws.Int32(want), DesiredCapacity: aws.Int32(want),
				VPCZoneIdentifier: aws.String(zones),
			}); err != nil {
				return wrap("update auto scaling group "+name, err)
			}
		}
		return r.p.rememberWorkers(ctx, r.n, r.spec.Workers)
	})
}

// rememberWorkers stores the worker count on the group for Resume.
func (p *Provider) rememberWorkers(ctx context.Context, n names, workers int) error {
	_, err := p.asg.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: n.asgTags(workers)[3:]})
	return wrap("tag auto scaling group "+n.asg(), err)
}

// setWorkers sets the group's desired capacity (Halt, Resume).
func (p *Provider) setWorkers(ctx context.Context, n names, g *astypes.AutoScalingGroup, workers int32) error {
	if aws.ToInt32(g.DesiredCapacity) == workers && aws.ToInt32(g.MaxSize) >= workers {
		return nil
	}
	in := &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(n.asg()), DesiredCapacity: aws.Int32(workers)}
	if aws.ToInt32(g.MaxSize) < workers {
		in.MaxSize = aws.Int32(workers)
	}
	_, err := p.asg.UpdateAutoScalingGroup(ctx, in)
	return wrap("set workers of "+n.asg(), err)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[strings.TrimSpace(s)]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
