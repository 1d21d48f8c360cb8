package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Destroy deletes every resource of the cluster, found by its tag, in
// dependency order: alarm, worker group (with its policy), instances,
// launch templates, security group, key pair, parameter, instance
// profiles and roles. A resource that has the cluster's name but not its
// tag is left alone and reported as skipped. Destroying a destroyed
// cluster succeeds and does nothing.
func (p *Provider) Destroy(ctx context.Context, cluster string) ([]Action, error) {
	if err := ValidateName(cluster); err != nil {
		return nil, err
	}
	d := &destroyer{p: p, n: names{cluster}}
	for _, step := range []func(context.Context) error{
		d.alarm, d.group, d.instances, d.launchTemplates, d.securityGroups, d.keyPairs, d.parameter, d.iam,
	} {
		if err := step(ctx); err != nil {
			return d.acts, err
		}
	}
	return d.acts, nil
}

type destroyer struct {
	p    *Provider
	n    names
	acts []Action
}

func (d *destroyer) done(kind, name string) {
	a := Action{Op: OpDelete, Kind: kind, Name: name}
	d.acts = append(d.acts, a)
	d.p.log.Info("changed", zapAction(a)...)
}

func (d *destroyer) skip(kind, name string) {
	d.acts = append(d.acts, Action{Op: OpSkip, Kind: kind, Name: name, Note: "not tagged " + TagCluster + "=" + d.n.cluster + ", left alone"})
}

func (d *destroyer) alarm(ctx context.Context) error {
	a, err := d.p.findAlarm(ctx, d.n)
	if err != nil || a == nil {
		return err
	}
	ours, err := d.p.alarmIsOurs(ctx, d.n, a)
	if err != nil {
		return err
	}
	if !ours {
		d.skip("alarm", d.n.alarm())
		return nil
	}
	_, err = d.p.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{d.n.alarm()}})
	if err := deleted("delete alarm "+d.n.alarm(), err); err != nil {
		return err
	}
	d.done("alarm", d.n.alarm())
	return nil
}

// group deletes the worker group and its instances (ForceDelete), which
// also removes its scaling policy.
func (d *destroyer) group(ctx context.Context) error {
	g, err := d.p.findGroup(ctx, d.n)
	if err != nil {
		return err
	}
	if g != nil && !groupIsOurs(g, d.n) {
		d.skip("auto scaling group", d.n.asg())
		return nil
	}
	// Deleting the group deletes its policies on AWS; moto 5.2 keeps them,
	// and a group that is already gone may have left one behind there.
	pol, err := d.p.findPolicy(ctx, d.n)
	if err != nil {
		return err
	}
	if pol != nil {
		_, err := d.p.asg.DeletePolicy(ctx, &autoscaling.DeletePolicyInput{
			AutoScalingGroupName: aws.String(d.n.asg()), PolicyName: pol.PolicyName,
		})
		if err := deleted("delete scaling policy "+d.n.scaleInPolicy(), err); err != nil {
			return err
		}
		d.done("scaling policy", d.n.scaleInPolicy())
	}
	if g == nil {
		return nil
	}
	if g.Status == nil || *g.Status != "Delete in progress" {
		_, err := d.p.asg.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(d.n.asg()), ForceDelete: aws.Bool(true),
		})
		if err := deleted("delete auto scaling group "+d.n.asg(), err); err != nil && !isCode(err, "ScalingActivityInProgress") {
			return err
		}
	}
	err = d.p.poll(ctx, "wait for auto scaling group "+d.n.asg()+" to go", func() (bool, error) {
		g, err := d.p.findGroup(ctx, d.n)
		return g == nil, err
	})
	if err != nil {
		return err
	}
	d.done("auto scaling group", d.n.asg())
	for _, i := range g.Instances {
		d.done("instance", aws.ToString(i.InstanceId)+" (worker)")
	}
	return nil
}

// instances terminates every live instance tagged as the cluster's and
// waits until they are gone (the security group cannot go before).
func (d *destroyer) instances(ctx context.Context) error {
	is, err := d.p.instances(ctx, d.n, "")
	if err != nil || len(is) == 0 {
		return err
	}
	var ids []string
	for _, i := range is {
		if i.State != "shutting-down" {
			ids = append(ids, i.ID)
		}
	}
	if len(ids) > 0 {
		if _, err := d.p.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			return wrap("terminate instances", err)
		}
	}
	err = d.p.poll(ctx, "wait for the instances to terminate", func() (bool, error) {
		left, err := d.p.instances(ctx, d.n, "")
		return len(left) == 0, err
	})
	if err != nil {
		return err
	}
	for _, i := range is {
		d.done("instance", i.ID+" ("+i.Role+")")
	}
	return nil
}

func (d *destroyer) launchTemplates(ctx context.Context) error {
	out, err := d.p.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{d.n.ec2Filter()}})
	if err != nil {
		return wrap("describe launch templates", err)
	}
	for _, lt := range out.LaunchTemplates {
		if !ec2HasTag(lt.Tags, TagCluster, d.n.cluster) {
			continue // the filter already says so; checked again because deleting is final
		}
		_, err := d.p.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId})
		if err := deleted("delete launch template "+aws.ToString(lt.LaunchTemplateName), err); err != nil {
			return err
		}
		d.done("launch template", aws.ToString(lt.LaunchTemplateName))
	}
	return nil
}

// securityGroups deletes the cluster's groups; a group stays in use for a
// little while after its instances terminated, so DependencyViolation is
// retried.
func (d *destroyer) securityGroups(ctx context.Context) error {
	out, err := d.p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{d.n.ec2Filter()}})
	if err != nil {
		return wrap("describe security groups", err)
	}
	for _, sg := range out.SecurityGroups {
		if !ec2HasTag(sg.Tags, TagCluster, d.n.cluster) {
			continue
		}
		var derr error
		err := d.p.poll(ctx, "delete security group "+aws.ToString(sg.GroupName), func() (bool, error) {
			_, derr = d.p.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
			if isCode(derr, "DependencyViolation") {
				return false, nil
			}
			if isCode(derr, "InvalidGroup.NotFound") {
				return true, nil
			}
			return true, derr
		})
		if derr != nil && err != nil {
			return wrap("delete security group "+aws.ToString(sg.GroupName), derr)
		}
		if err != nil {
			return err
		}
		d.done("security group", aws.ToString(sg.GroupName))
	}
	return nil
}

func (d *destroyer) keyPairs(ctx context.Context) error {
	out, err := d.p.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: []ec2types.Filter{d.n.ec2Filter()}})
	if err != nil {
		return wrap("describe key pairs", err)
	}
	for _, kp := range out.KeyPairs {
		if !ec2HasTag(kp.Tags, TagCluster, d.n.cluster) {
			continue
		}
		_, err := d.p.ec2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: kp.KeyName})
		if err := deleted("delete key pair "+aws.ToString(kp.KeyName), err); err != nil {
			return err
		}
		d.done("key pair", aws.ToString(kp.KeyName))
	}
	return nil
}

func (d *destroyer) parameter(ctx context.Context) error {
	meta, err := d.p.findParameter(ctx, d.n)
	if err != nil || meta == nil {
		return err
	}
	ours, err := d.p.parameterIsOurs(ctx, d.n)
	if err != nil {
		return err
	}
	if !ours {
		d.skip("SSM parameter", d.n.tokenParameter())
		return nil
	}
	_, err = d.p.ssm.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(d.n.tokenParameter())})
	if err := deleted("delete parameter "+d.n.tokenParameter(), err); err != nil {
		return err
	}
	d.done("SSM parameter", d.n.tokenParameter())
	return nil
}

func (d *destroyer) iam(ctx context.Context) error {
	for _, role := range []string{RoleManager, RoleWorker} {
		name := d.n.role(role)
		prof, err := d.p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
		switch {
		case isCode(err, "NoSuchEntity"):
		case err != nil:
			return wrap("get instance profile "+name, err)
		case !iamHasTag(prof.InstanceProfile.Tags, TagCluster, d.n.cluster):
			d.skip("instance profile", name)
		default:
			for _, ro := range prof.InstanceProfile.Roles {
				_, err := d.p.iam.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{
					InstanceProfileName: aws.String(name), RoleName: ro.RoleName,
				})
				if err := deleted("remove role from instance profile "+name, err); err != nil {
					return err
				}
			}
			_, err := d.p.iam.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)})
			if err := deleted("delete instance profile "+name, err); err != nil {
				return err
			}
			d.done("instance profile", name)
		}

		got, err := d.p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		switch {
		case isCode(err, "NoSuchEntity"):
			continue
		case err != nil:
			return wrap("get IAM role "+name, err)
		case !iamHasTag(got.Role.Tags, TagCluster, d.n.cluster):
			d.skip("IAM role", name)
			continue
		}
		pols, err := d.p.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
		if err != nil {
			return wrap("list policies of IAM role "+name, err)
		}
		for _, pn := range pols.PolicyNames {
			_, err := d.p.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err := deleted("delete policy of IAM role "+name, err); err != nil {
				return err
			}
		}
		_, err = d.p.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
		if err := deleted("delete IAM role "+name, err); err != nil {
			return err
		}
		d.done("IAM role", name)
	}
	return nil
}
