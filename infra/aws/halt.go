package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// ErrNoCluster is returned by Halt and Resume when the cluster does not exist.
var ErrNoCluster = errors.New("no such cluster")

// Halt stops the manager and scales the workers to 0; the volumes, the
// swarm state and everything else stay. Halting a halted cluster does
// nothing. It returns the actions taken.
func (p *Provider) Halt(ctx context.Context, cluster string) ([]Action, error) {
	n := names{cluster}
	if err := ValidateName(cluster); err != nil {
		return nil, err
	}
	var acts []Action
	g, err := p.findGroup(ctx, n)
	if err != nil {
		return nil, err
	}
	if g != nil && groupIsOurs(g, n) && aws.ToInt32(g.DesiredCapacity) > 0 {
		if err := p.setWorkers(ctx, n, g, 0); err != nil {
			return acts, err
		}
		acts = append(acts, Action{Op: OpUpdate, Kind: "auto scaling group", Name: n.asg(), Note: "workers to 0"})
	}
	m, err := p.manager(ctx, n)
	if err != nil {
		return acts, err
	}
	if m == nil && g == nil {
		return nil, fmt.Errorf("halt %s: %w", cluster, ErrNoCluster)
	}
	if m != nil && (m.State == "running" || m.State == "pending") {
		if _, err := p.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{m.ID}}); err != nil {
			return acts, wrap("stop the manager "+m.ID, err)
		}
		acts = append(acts, Action{Op: "stop", Kind: "instance", Name: m.ID, Note: "manager"})
	}
	for _, a := range acts {
		p.log.Info("changed", zapAction(a)...)
	}
	return acts, nil
}

// Resume starts the manager and restores the worker count Up set. The
// idle alarm is re-armed. Resuming a running cluster does nothing.
func (p *Provider) Resume(ctx context.Context, cluster string) ([]Action, error) {
	n := names{cluster}
	if err := ValidateName(cluster); err != nil {
		return nil, err
	}
	var acts []Action
	m, err := p.manager(ctx, n)
	if err != nil {
		return nil, err
	}
	g, err := p.findGroup(ctx, n)
	if err != nil {
		return nil, err
	}
	if m == nil && g == nil {
		return nil, fmt.Errorf("resume %s: %w", cluster, ErrNoCluster)
	}
	if m == nil {
		return nil, &Error{Step: "resume " + cluster, msg: "the manager instance is gone: run up to launch a new one"}
	}
	if m.State == "stopped" || m.State == "stopping" {
		if err := p.startInstance(ctx, m.ID); err != nil {
			return nil, err
		}
		acts = append(acts, Action{Op: OpStart, Kind: "instance", Name: m.ID, Note: "manager"})
		if a, err := p.findAlarm(ctx, n); err != nil {
			return acts, err
		} else if a != nil {
			if err := p.rearmAlarm(ctx, n); err != nil {
				return acts, err
			}
		}
	}
	if g != nil && groupIsOurs(g, n) {
		want := aws.ToInt32(g.MaxSize)
		if v, ok := asgTag(g.Tags, tagWorkers); ok {
			var w int32
			if _, err := fmt.Sscan(v, &w); err == nil {
				want = w
			}
		}
		if aws.ToInt32(g.DesiredCapacity) != want {
			if err := p.setWorkers(ctx, n, g, want); err != nil {
				return acts, err
			}
			acts = append(acts, Action{Op: OpUpdate, Kind: "auto scaling group", Name: n.asg(), Note: fmt.Sprintf("workers to %d", want)})
		}
	}
	for _, a := range acts {
		p.log.Info("changed", zapAction(a)...)
	}
	return acts, nil
}
