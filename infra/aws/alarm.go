package aws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// StopActionARN is the CloudWatch alarm action that stops the instance the
// alarm's metric is about.
func StopActionARN(region string) string { return "arn:aws:automate:" + region + ":ec2:stop" }

// alarmInput is the idle alarm: the manager's maximum CPU under the
// threshold for every one of the evaluation periods stops it and runs the
// policy that scales the workers to 0.
func (r *run) alarmInput() *cloudwatch.PutMetricAlarmInput {
	idle := r.spec.Idle
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(r.n.alarm()),
		AlarmDescription: aws.String(fmt.Sprintf("simswarm cluster %s: stop the manager and scale the workers to 0 when the manager's maximum CPU stays under %g%% for %d x %v",
			r.n.cluster, idle.Threshold, idle.Periods, idle.Period)),
		Namespace:          aws.String("AWS/EC2"),
		MetricName:         aws.String("CPUUtilization"),
		Dimensions:         []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(r.managerID)}},
		Statistic:          cwtypes.StatisticMaximum,
		Period:             aws.Int32(int32(idle.Period.Seconds())),
		EvaluationPeriods:  aws.Int32(idle.Periods),
		DatapointsToAlarm:  aws.Int32(idle.Periods),
		Threshold:          aws.Float64(idle.Threshold),
		ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold,
		// A stopped manager sends no data; that is neither idle nor busy.
		TreatMissingData: aws.String("missing"),
		ActionsEnabled:   aws.Bool(true),
		AlarmActions:     []string{StopActionARN(r.p.region), r.policyARN},
		Tags:             r.n.cwTags(),
	}
}

func sameAlarm(a cwtypes.MetricAlarm, w *cloudwatch.PutMetricAlarmInput) bool {
	dims := func(ds []cwtypes.Dimension) []string {
		var out []string
		for _, d := range ds {
			out = append(out, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
		}
		slices.Sort(out)
		return out
	}
	acts := slices.Clone(a.AlarmActions)
	want := slices.Clone(w.AlarmActions)
	slices.Sort(acts)
	slices.Sort(want)
	return aws.ToString(a.Namespace) == aws.ToString(w.Namespace) && aws.ToString(a.MetricName) == aws.ToString(w.MetricName) &&
		slices.Equal(dims(a.Dimensions), dims(w.Dimensions)) && a.Statistic == w.Statistic &&
		aws.ToInt32(a.Period) == aws.ToInt32(w.Period) && aws.ToInt32(a.EvaluationPeriods) == aws.ToInt32(w.EvaluationPeriods) &&
		aws.ToFloat64(a.Threshold) == aws.ToFloat64(w.Threshold) && a.ComparisonOperator == w.ComparisonOperator &&
		aws.ToBool(a.ActionsEnabled) && slices.Equal(acts, want) &&
		(a.DatapointsToAlarm == nil || aws.ToInt32(a.DatapointsToAlarm) == aws.ToInt32(w.DatapointsToAlarm))
}

// findAlarm returns the cluster's idle alarm, nil if none.
func (p *Provider) findAlarm(ctx context.Context, n names) (*cwtypes.MetricAlarm, error) {
	out, err := p.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{n.alarm()}})
	if err != nil {
		return nil, wrap("describe alarm "+n.alarm(), err)
	}
	for _, a := range out.MetricAlarms {
		if aws.ToString(a.AlarmName) == n.alarm() {
			return &a, nil
		}
	}
	return nil, nil
}

func (p *Provider) alarmIsOurs(ctx context.Context, n names, a *cwtypes.MetricAlarm) (bool, error) {
	out, err := p.cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if err != nil {
		return false, wrap("list tags of alarm "+n.alarm(), err)
	}
	for _, t := range out.Tags {
		if aws.ToString(t.Key) == TagCluster && aws.ToString(t.Value) == n.cluster {
			return true, nil
		}
	}
	return false, nil
}

func (p *Provider) findPolicy(ctx context.Context, n names) (*astypes.ScalingPolicy, error) {
	out, err := p.asg.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{
		AutoScalingGroupName: aws.String(n.asg()), PolicyNames: []string{n.scaleInPolicy()},
	})
	if err != nil {
		return nil, wrap("describe scaling policy "+n.scaleInPolicy(), err)
	}
	for _, pol := range out.ScalingPolicies {
		if aws.ToString(pol.PolicyName) == n.scaleInPolicy() {
			return &pol, nil
		}
	}
	return nil, nil
}

// idleAlarm converges the scale-to-zero policy and the alarm, or removes
// both when the idle shutdown is disabled.
func (r *run) idleAlarm(ctx context.Context) error {
	var pol *astypes.ScalingPolicy
	if r.groupExists || !r.dry {
		var err error
		if pol, err = r.p.findPolicy(ctx, r.n); err != nil {
			return err
		}
	}
	alarm, err := r.p.findAlarm(ctx, r.n)
	if err != nil {
		return err
	}
	if alarm != nil {
		ours, err := r.p.alarmIsOurs(ctx, r.n, alarm)
		if err != nil {
			return err
		}
		if !ours {
			return r.n.notOurs("alarm", r.n.alarm())
		}
	}
	if r.spec.Idle.Disabled {
		if alarm != nil {
			if err := r.act(Action{Op: OpDelete, Kind: "alarm", Name: r.n.alarm(), Note: "idle shutdown disabled"}, func() error {
				_, err := r.p.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{r.n.alarm()}})
				return wrap("delete alarm "+r.n.alarm(), err)
			}); err != nil {
				return err
			}
		}
		if pol != nil {
			return r.act(Action{Op: OpDelete, Kind: "scaling policy", Name: r.n.scaleInPolicy()}, func() error {
				_, err := r.p.asg.DeletePolicy(ctx, &autoscaling.DeletePolicyInput{AutoScalingGroupName: aws.String(r.n.asg()), PolicyName: aws.String(r.n.scaleInPolicy())})
				return wrap("delete scaling policy "+r.n.scaleInPolicy(), err)
			})
		}
		return nil
	}

	if pol != nil && pol.AdjustmentType != nil && *pol.AdjustmentType == "ExactCapacity" && aws.ToInt32(pol.ScalingAdjustment) == 0 {
		r.policyARN = aws.ToString(pol.PolicyARN)
		if err := r.act(Action{Op: OpKeep, Kind: "scaling policy", Name: r.n.scaleInPolicy()}, nil); err != nil {
			return err
		}
	} else {
		op := OpCreate
		if pol != nil {
			op = OpUpdate
		}
		r.policyARN = placeholder("scaling policy")
		err := r.act(Action{Op: op, Kind: "scaling policy", Name: r.n.scaleInPolicy(), Note: "workers to 0"}, func() error {
			out, err := r.p.asg.PutScalingPolicy(ctx, &autoscaling.PutScalingPolicyInput{
				AutoScalingGroupName: aws.String(r.n.asg()), PolicyName: aws.String(r.n.scaleInPolicy()),
				PolicyType: aws.String("SimpleScaling"), AdjustmentType: aws.String("ExactCapacity"),
				ScalingAdjustment: aws.Int32(0),
			})
			if err != nil {
				return wrap("put scaling policy "+r.n.scaleInPolicy(), err)
			}
			r.policyARN = aws.ToString(out.PolicyARN)
			if r.policyARN == "" {
				// moto 5.2 answers PutScalingPolicy with <PolicyArn>, not
				// AWS's <PolicyARN>; read the ARN back.
				pol, err := r.p.findPolicy(ctx, r.n)
				if err != nil {
					return err
				}
				if pol == nil || aws.ToString(pol.PolicyARN) == "" {
					return &Error{Step: "put scaling policy " + r.n.scaleInPolicy(), msg: "AWS returned no policy ARN"}
				}
				r.policyARN = aws.ToString(pol.PolicyARN)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}

	if err := r.alarm(ctx, alarm); err != nil {
		return err
	}
	if r.started && !r.dry && alarm != nil {
		return r.p.rearmAlarm(ctx, r.n)
	}
	return nil
}

func (r *run) alarm(ctx context.Context, alarm *cwtypes.MetricAlarm) error {
	want := r.alarmInput()
	note := fmt.Sprintf("max CPU < %g%% for %d x %v stops the cluster", r.spec.Idle.Threshold, r.spec.Idle.Periods, r.spec.Idle.Period)
	switch {
	case alarm == nil:
		return r.act(Action{Op: OpCreate, Kind: "alarm", Name: r.n.alarm(), Note: note}, func() error {
			_, err := r.p.cw.PutMetricAlarm(ctx, r.alarmInput())
			return wrap("put alarm "+r.n.alarm(), err)
		})
	case sameAlarm(*alarm, want):
		return r.act(Action{Op: OpKeep, Kind: "alarm", Name: r.n.alarm()}, nil)
	default:
		return r.act(Action{Op: OpUpdate, Kind: "alarm", Name: r.n.alarm(), Note: note}, func() error {
			_, err := r.p.cw.PutMetricAlarm(ctx, r.alarmInput())
			return wrap("put alarm "+r.n.alarm(), err)
		})
	}
}

// rearmAlarm sets the idle alarm to OK after the manager was started, so
// that the next idle hour is a new transition to ALARM (actions run only
// on transitions, and the alarm may still be in ALARM from the stop).
func (p *Provider) rearmAlarm(ctx context.Context, n names) error {
	_, err := p.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(n.alarm()), StateValue: cwtypes.StateValueOk, StateReason: aws.String("cluster started by simswarm"),
	})
	return wrap("re-arm alarm "+n.alarm(), err)
}
