package aws

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestClusterIdleAlarm: the alarm watches the manager's maximum CPU in 15-minute
// periods, fires below 10% in all of 4 of them, and then stops the
// manager and runs the policy that sets the workers to exactly 0.
func TestClusterIdleAlarm(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	res, err := p.Up(ctx, testSpec("idle"))
	if err != nil {
		t.Fatal(err)
	}
	n := names{"idle"}
	out, err := p.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{n.alarm()}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("alarms: %v %v", out, err)
	}
	a := out.MetricAlarms[0]
	if aws.ToString(a.Namespace) != "AWS/EC2" || aws.ToString(a.MetricName) != "CPUUtilization" {
		t.Errorf("metric %s/%s", aws.ToString(a.Namespace), aws.ToString(a.MetricName))
	}
	if len(a.Dimensions) != 1 || aws.ToString(a.Dimensions[0].Name) != "InstanceId" || aws.ToString(a.Dimensions[0].Value) != res.ManagerID {
		t.Errorf("dimensions %+v, want InstanceId=%s", a.Dimensions, res.ManagerID)
	}
	if a.Statistic != cwtypes.StatisticMaximum || aws.ToInt32(a.Period) != 900 || aws.ToInt32(a.EvaluationPeriods) != 4 ||
		aws.ToInt32(a.DatapointsToAlarm) != 4 || aws.ToFloat64(a.Threshold) != 10 || a.ComparisonOperator != cwtypes.ComparisonOperatorLessThanThreshold {
		t.Errorf("statistic %s period %d evaluation periods %d datapoints %d threshold %g operator %s",
			a.Statistic, aws.ToInt32(a.Period), aws.ToInt32(a.EvaluationPeriods), aws.ToInt32(a.DatapointsToAlarm), aws.ToFloat64(a.Threshold), a.ComparisonOperator)
	}
	pol, err := p.findPolicy(ctx, n)
	if err != nil || pol == nil {
		t.Fatalf("scaling policy: %v", err)
	}
	if aws.ToString(pol.AdjustmentType) != "ExactCapacity" || aws.ToInt32(pol.ScalingAdjustment) != 0 {
		t.Errorf("policy %s %d, want ExactCapacity 0", aws.ToString(pol.AdjustmentType), aws.ToInt32(pol.ScalingAdjustment))
	}
	acts := slices.Clone(a.AlarmActions)
	slices.Sort(acts)
	want := []string{"arn:aws:automate:us-east-1:ec2:stop", aws.ToString(pol.PolicyARN)}
	slices.Sort(want)
	if !slices.Equal(acts, want) || !aws.ToBool(a.ActionsEnabled) {
		t.Errorf("actions %v (enabled %v), want %v", a.AlarmActions, aws.ToBool(a.ActionsEnabled), want)
	}
	// What the alarm runs really takes the workers to 0.
	if _, err := p.asg.ExecutePolicy(ctx, &autoscaling.ExecutePolicyInput{AutoScalingGroupName: aws.String(n.asg()), PolicyName: pol.PolicyName}); err != nil {
		t.Fatal(err)
	}
	if g, err := p.findGroup(ctx, n); err != nil || aws.ToInt32(g.DesiredCapacity) != 0 {
		t.Errorf("after the policy: %+v %v", g, err)
	}

	// Configurable: another threshold and window update the alarm in place...
	spec := testSpec("idle")
	spec.Idle = IdleSpec{Threshold: 5, Periods: 2, Period: 30 * time.Minute}
	if res, err := p.Up(ctx, spec); err != nil || !hasAction(res.Actions, OpUpdate, "alarm") {
		t.Fatalf("up with another idle window: %v\n%s", err, res.Plan)
	}
	b, _ := p.findAlarm(ctx, n)
	if aws.ToFloat64(b.Threshold) != 5 || aws.ToInt32(b.Period) != 1800 || aws.ToInt32(b.EvaluationPeriods) != 2 {
		t.Errorf("updated alarm: threshold %g period %d periods %d", aws.ToFloat64(b.Threshold), aws.ToInt32(b.Period), aws.ToInt32(b.EvaluationPeriods))
	}
	// ...and disabling the idle stop removes alarm and policy.
	spec.Idle = IdleSpec{Disabled: true}
	if _, err := p.Up(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if a, _ := p.findAlarm(ctx, n); a != nil {
		t.Error("alarm still there with the idle stop disabled")
	}
	if pol, _ := p.findPolicy(ctx, n); pol != nil {
		t.Error("policy still there with the idle stop disabled")
	}
}
