package aws

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// liveStates are the states of an instance that still exists.
var liveStates = []string{"pending", "running", "stopping", "stopped", "shutting-down"}

// Instance is what Status reports of one instance.
type Instance struct {
	ID         string
	Role       string
	Type       string
	State      string
	PublicIP   string
	PrivateIP  string
	LaunchTime time.Time
}

func toInstance(i ec2types.Instance) Instance {
	out := Instance{
		ID: aws.ToString(i.InstanceId), Role: ec2Tag(i.Tags, TagRole), Type: string(i.InstanceType),
		PublicIP: aws.ToString(i.PublicIpAddress), PrivateIP: aws.ToString(i.PrivateIpAddress),
		LaunchTime: aws.ToTime(i.LaunchTime),
	}
	if i.State != nil {
		out.State = string(i.State.Name)
	}
	return out
}

// instances lists the cluster's live instances of role ("" = any),
// oldest first.
func (p *Provider) instances(ctx context.Context, n names, role string) ([]Instance, error) {
	filters := []ec2types.Filter{n.ec2Filter(), {Name: aws.String("instance-state-name"), Values: liveStates}}
	if role != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + TagRole), Values: []string{role}})
	}
	var out []Instance
	pg := ec2.NewDescribeInstancesPaginator(p.ec2, &ec2.DescribeInstancesInput{Filters: filters})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, wrap("describe instances", err)
		}
		for _, res := range page.Reservations {
			for _, i := range res.Instances {
				out = append(out, toInstance(i))
			}
		}
	}
	slices.SortFunc(out, func(a, b Instance) int {
		if c := a.LaunchTime.Compare(b.LaunchTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// manager returns the cluster's manager instance, nil if none.
func (p *Provider) manager(ctx context.Context, n names) (*Instance, error) {
	is, err := p.instances(ctx, n, RoleManager)
	if err != nil || len(is) == 0 {
		return nil, err
	}
	return &is[0], nil
}

// manager launches the manager from its template, or starts it if it is
// stopped.
func (r *run) manager(ctx context.Context) error {
	m, err := r.p.manager(ctx, r.n)
	if err != nil {
		return err
	}
	if m == nil {
		r.managerID, r.managerIP = placeholder("instance"), placeholder("address")
		return r.act(Action{Op: OpCreate, Kind: "instance", Name: r.n.prefix() + "-manager", Note: r.spec.ManagerType}, func() error {
			id, ip, err := r.p.launchManager(ctx, r.templates[RoleManager], r.subnets[0])
			r.managerID, r.managerIP, r.started = id, ip, true
			return err
		})
	}
	r.managerID, r.managerIP = m.ID, m.PrivateIP
	switch m.State {
	case "stopped", "stopping":
		return r.act(Action{Op: OpStart, Kind: "instance", Name: m.ID, Note: "manager, " + m.State}, func() error {
			r.started = true
			return r.p.startInstance(ctx, m.ID)
		})
	}
	return r.act(Action{Op: OpKeep, Kind: "instance", Name: m.ID, Note: "manager, " + m.State}, nil)
}

// launchManager runs one instance from the manager template. A just-made
// instance profile takes a few seconds to be usable by EC2; that one
// error is retried.
func (p *Provider) launchManager(ctx context.Context, templateID, subnet string) (id, privateIP string, err error) {
	in := &ec2.RunInstancesInput{
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(templateID), Version: aws.String("$Default")},
		MinCount:       aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet),
	}
	var out *ec2.RunInstancesOutput
	err = p.poll(ctx, "launch the manager", func() (bool, error) {
		out, err = p.ec2.RunInstances(ctx, in)
		if isCode(err, "InvalidParameterValue") && strings.Contains(strings.ToLower(err.Error()), "iam instance profile") {
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return "", "", wrap("launch the manager", err)
	}
	i := out.Instances[0]
	return aws.ToString(i.InstanceId), aws.ToString(i.PrivateIpAddress), nil
}

// startInstance starts a stopped instance, first waiting for one that is
// still stopping.
func (p *Provider) startInstance(ctx context.Context, id string) error {
	err := p.poll(ctx, "wait for "+id+" to stop", func() (bool, error) {
		st, err := p.instanceState(ctx, id)
		return st != "stopping", err
	})
	if err != nil {
		return err
	}
	_, err = p.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	return wrap("start instance "+id, err)
}

func (p *Provider) instanceState(ctx context.Context, id string) (string, error) {
	out, err := p.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return "", wrap("describe instance "+id, err)
	}
	for _, res := range out.Reservations {
		for _, i := range res.Instances {
			if i.State != nil {
				return string(i.State.Name), nil
			}
		}
	}
	return "", nil
}

// waitManager waits until the manager runs and reports its addresses.
func (r *run) waitManager(ctx context.Context) error {
	if r.dry {
		return nil
	}
	r.res.ManagerID = r.managerID
	return r.p.poll(ctx, "wait for the manager to run", func() (bool, error) {
		m, err := r.p.manager(ctx, r.n)
		if err != nil || m == nil {
			return false, err
		}
		r.res.PublicIP, r.res.PrivateIP = m.PublicIP, m.PrivateIP
		return m.State == "running", nil
	})
}
