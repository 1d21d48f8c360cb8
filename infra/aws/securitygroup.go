package aws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Rule is one ingress rule: a protocol and port range from a source, which
// is either a CIDR or (SelfGroup) the security group itself.
type Rule struct {
	Protocol  string // tcp, udp, or -1 for all
	FromPort  int32
	ToPort    int32
	CIDR      string
	SelfGroup bool
	// Sources simswarm never uses; seen only in rules someone else added,
	// which Up revokes.
	CIDRv6, GroupID, PrefixList string
}

func (r Rule) String() string {
	src := r.CIDR + r.CIDRv6
	switch {
	case r.SelfGroup:
		src = "the group itself"
	case r.GroupID != "":
		src = "group " + r.GroupID
	case r.PrefixList != "":
		src = "prefix list " + r.PrefixList
	}
	port := fmt.Sprint(r.FromPort)
	if r.ToPort != r.FromPort {
		port += "-" + fmt.Sprint(r.ToPort)
	}
	return fmt.Sprintf("%s/%s from %s", port, r.Protocol, src)
}

// IngressRules are exactly the rules of the cluster's group: swarm
// traffic between the cluster's own instances, SSH from sshCIDR. The API
// and dashboard are reached through the SSH tunnel, so no other port is open.
func IngressRules(sshCIDR string) []Rule {
	return []Rule{
		{Protocol: "tcp", FromPort: 2377, ToPort: 2377, SelfGroup: true}, // swarm management
		{Protocol: "tcp", FromPort: 7946, ToPort: 7946, SelfGroup: true}, // node gossip
		{Protocol: "udp", FromPort: 7946, ToPort: 7946, SelfGroup: true},
		{Protocol: "udp", FromPort: 4789, ToPort: 4789, SelfGroup: true}, // overlay VXLAN
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: sshCIDR},
	}
}

// GroupRules flattens a security group's ingress permissions into rules.
func GroupRules(sg ec2types.SecurityGroup) []Rule {
	var out []Rule
	for _, p := range sg.IpPermissions {
		base := Rule{Protocol: aws.ToString(p.IpProtocol), FromPort: aws.ToInt32(p.FromPort), ToPort: aws.ToInt32(p.ToPort)}
		for _, ip := range p.IpRanges {
			r := base
			r.CIDR = aws.ToString(ip.CidrIp)
			out = append(out, r)
		}
		for _, g := range p.UserIdGroupPairs {
			r := base
			if aws.ToString(g.GroupId) == aws.ToString(sg.GroupId) {
				r.SelfGroup = true
			} else {
				r.GroupID = aws.ToString(g.GroupId)
			}
			out = append(out, r)
		}
		for _, v6 := range p.Ipv6Ranges {
			r := base
			r.CIDRv6 = aws.ToString(v6.CidrIpv6)
			out = append(out, r)
		}
		for _, pl := range p.PrefixListIds {
			r := base
			r.PrefixList = aws.ToString(pl.PrefixListId)
			out = append(out, r)
		}
	}
	return out
}

func (r Rule) permission(groupID string) ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String(r.Protocol)}
	if r.Protocol != "-1" {
		p.FromPort, p.ToPort = aws.Int32(r.FromPort), aws.Int32(r.ToPort)
	}
	switch {
	case r.SelfGroup:
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(groupID), Description: aws.String("simswarm cluster nodes")}}
	case r.GroupID != "":
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(r.GroupID)}}
	case r.CIDRv6 != "":
		p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.CIDRv6)}}
	case r.PrefixList != "":
		p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(r.PrefixList)}}
	default:
		p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.CIDR), Description: aws.String("simswarm ssh")}}
	}
	return p
}

// findSecurityGroup returns the group of the cluster's name in vpcID (any
// VPC when vpcID is empty), nil if none.
func (p *Provider) findSecurityGroup(ctx context.Context, n names, vpcID string) (*ec2types.SecurityGroup, error) {
	filters := []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{n.securityGroup()}}}
	if vpcID != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("vpc-id"), Values: []string{vpcID}})
	}
	out, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	if err != nil {
		return nil, wrap("describe security group "+n.securityGroup(), err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil, nil
	}
	return &out.SecurityGroups[0], nil
}

func (r *run) securityGroup(ctx context.Context) error {
	name := r.n.securityGroup()
	sg, err := r.p.findSecurityGroup(ctx, r.n, r.vpcID)
	if err != nil {
		return err
	}
	var current []Rule
	if sg != nil {
		if !ec2HasTag(sg.Tags, TagCluster, r.n.cluster) {
			return r.n.notOurs("security group", name)
		}
		r.sgID = aws.ToString(sg.GroupId)
		current = GroupRules(*sg)
		if err := r.act(Action{Op: OpKeep, Kind: "security group", Name: name, Note: r.sgID}, nil); err != nil {
			return err
		}
	} else {
		r.sgID = placeholder("security group")
		err := r.act(Action{Op: OpCreate, Kind: "security group", Name: name, Note: "in " + r.vpcID}, func() error {
			out, err := r.p.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
				GroupName:         aws.String(name),
				Description:       aws.String("simswarm cluster " + r.n.cluster + ": swarm between its nodes, ssh from one network"),
				VpcId:             aws.String(r.vpcID),
				TagSpecifications: r.n.ec2TagSpec(ec2types.ResourceTypeSecurityGroup, name, ""),
			})
			if err != nil {
				return wrap("create security group "+name, err)
			}
			r.sgID = aws.ToString(out.GroupId)
			return nil
		})
		if err != nil {
			return err
		}
	}
	want := IngressRules(r.spec.SSHCIDR)
	var add, remove []ec2types.IpPermission
	for _, w := range want {
		if slices.Contains(current, w) {
			if err := r.act(Action{Op: OpKeep, Kind: "ingress rule", Name: w.String()}, nil); err != nil {
				return err
			}
			continue
		}
		add = append(add, w.permission(r.sgID))
		if err := r.act(Action{Op: OpCreate, Kind: "ingress rule", Name: w.String()}, nil); err != nil {
			return err
		}
	}
	for _, c := range current {
		if slices.Contains(want, c) {
			continue
		}
		remove = append(remove, c.permission(r.sgID))
		if err := r.act(Action{Op: OpDelete, Kind: "ingress rule", Name: c.String()}, nil); err != nil {
			return err
		}
	}
	if r.dry {
		return nil
	}
	if len(remove) > 0 {
		if _, err := r.p.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(r.sgID), IpPermissions: remove}); err != nil {
			return wrap("revoke ingress rules of "+name, err)
		}
	}
	if len(add) > 0 {
		if _, err := r.p.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			// No tags on the rules: they live and die with the tagged group,
			// and a tag-scoped IAM policy could not allow tagging them.
			GroupId: aws.String(r.sgID), IpPermissions: add,
		}); err != nil {
			if alreadyThere(err) {
				return &staleViewError{kind: "ingress rules", name: name, err: wrap("authorize ingress rules of "+name, err)}
			}
			return wrap("authorize ingress rules of "+name, err)
		}
		r.p.log.Info("changed", zapAction(Action{Op: OpCreate, Kind: "ingress rules", Name: name})...)
	}
	return nil
}
