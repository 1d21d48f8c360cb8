package aws

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Status is what exists of a cluster and how it is doing.
type Status struct {
	Cluster string
	Region  string
	// Exists is false when no resource of the cluster was found.
	Exists  bool
	Manager *Instance
	Workers []Instance
	// DesiredWorkers is the group's desired capacity now; SpecWorkers the
	// count Up set (and Resume restores).
	DesiredWorkers int
	SpecWorkers    int
	// SwarmInitialized: the manager has run docker swarm init and stored
	// the worker join token (the parameter was overwritten).
	SwarmInitialized bool
	// Alarm is the idle alarm's state (OK, ALARM, INSUFFICIENT_DATA), ""
	// if there is none.
	Alarm       string
	AlarmReason string
	// HourlyUSD is what the running instances cost per hour; SoFarUSD
	// what they have cost since each was last started (estimates).
	HourlyUSD float64
	SoFarUSD  float64
}

// Status reads the cluster's instances, group, token parameter and alarm.
// It only reads.
func (p *Provider) Status(ctx context.Context, cluster string) (Status, error) {
	st := Status{Cluster: cluster, Region: p.region}
	if err := ValidateName(cluster); err != nil {
		return st, err
	}
	n := names{cluster}
	if _, err := p.account(ctx); err != nil {
		return st, err
	}
	is, err := p.instances(ctx, n, "")
	if err != nil {
		return st, err
	}
	now := p.now()
	for _, i := range is {
		i := i
		st.Exists = true
		if i.State == "running" {
			price, _ := HourlyPrice(i.Type)
			st.HourlyUSD += price
			st.SoFarUSD += costSoFar(i.Type, i.LaunchTime, now)
		}
		if i.Role == RoleManager && st.Manager == nil {
			st.Manager = &i
		} else {
			st.Workers = append(st.Workers, i)
		}
	}
	g, err := p.findGroup(ctx, n)
	if err != nil {
		return st, err
	}
	if g != nil && groupIsOurs(g, n) {
		st.Exists = true
		st.DesiredWorkers = int(aws.ToInt32(g.DesiredCapacity))
		if v, ok := asgTag(g.Tags, tagWorkers); ok {
			st.SpecWorkers, _ = strconv.Atoi(v)
		}
	}
	meta, err := p.findParameter(ctx, n)
	if err != nil {
		return st, err
	}
	if meta != nil {
		st.Exists = true
		st.SwarmInitialized = meta.Version > 1
	}
	if !st.Exists {
		// Leftovers of a half-finished up or destroy still make a cluster
		// (that destroy removes).
		if kp, err := p.findKeyPair(ctx, n); err != nil {
			return st, err
		} else if kp != nil && ec2HasTag(kp.Tags, TagCluster, n.cluster) {
			st.Exists = true
		}
		if sg, err := p.findSecurityGroup(ctx, n, ""); err != nil {
			return st, err
		} else if sg != nil && ec2HasTag(sg.Tags, TagCluster, n.cluster) {
			st.Exists = true
		}
	}
	a, err := p.findAlarm(ctx, n)
	if err != nil {
		return st, err
	}
	if a != nil {
		st.Alarm, st.AlarmReason = string(a.StateValue), aws.ToString(a.StateReason)
	}
	return st, nil
}
