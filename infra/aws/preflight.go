package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// preflight checks what would make a launch fail late: credentials, the
// instance types in this region, the image and its architecture.
func (r *run) preflight(ctx context.Context) error {
	account, err := r.p.account(ctx)
	if err != nil {
		return err
	}
	r.account = account
	types := []string{r.spec.ManagerType}
	if r.spec.WorkerType != r.spec.ManagerType {
		types = append(types, r.spec.WorkerType)
	}
	for _, t := range types {
		if err := r.p.checkOffered(ctx, t); err != nil {
			return err
		}
	}
	ami := r.spec.AMI
	if ami == "" {
		out, err := r.p.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(r.spec.AMIParameter)})
		if err != nil {
			return wrap("look up the image in SSM parameter "+r.spec.AMIParameter, err)
		}
		ami = aws.ToString(out.Parameter.Value)
	}
	r.res.AMI = ami
	img, err := r.p.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
	if err != nil && !isCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Malformed") {
		return wrap("describe image "+ami, err)
	}
	if err != nil || len(img.Images) == 0 {
		return &Error{Step: "check image", msg: fmt.Sprintf("image %s not found in region %s", ami, r.p.region)}
	}
	r.rootDevice = aws.ToString(img.Images[0].RootDeviceName)
	if r.rootDevice == "" {
		r.rootDevice = "/dev/xvda"
	}
	arch := string(img.Images[0].Architecture)
	it, err := r.p.ec2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: toInstanceTypes(types)})
	if err != nil {
		return wrap("describe instance types", err)
	}
	for _, t := range it.InstanceTypes {
		if t.ProcessorInfo == nil || arch == "" {
			continue
		}
		var archs []string
		for _, a := range t.ProcessorInfo.SupportedArchitectures {
			archs = append(archs, string(a))
		}
		if !slices.Contains(archs, arch) {
			return &Error{Step: "check image", msg: fmt.Sprintf("image %s is %s but %s runs %s: pick a matching --ami or --ami-parameter",
				ami, arch, t.InstanceType, strings.Join(archs, "/"))}
		}
	}
	return nil
}

// account checks the credentials (a call any identity may make) and
// returns the account id.
func (p *Provider) account(ctx context.Context) (string, error) {
	id, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", wrap("check AWS credentials", err)
	}
	return aws.ToString(id.Account), nil
}

// checkOffered fails clearly when the region does not offer an instance type.
func (p *Provider) checkOffered(ctx context.Context, instanceType string) error {
	out, err := p.ec2.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{
		LocationType: ec2types.LocationTypeRegion,
		Filters:      []ec2types.Filter{{Name: aws.String("instance-type"), Values: []string{instanceType}}},
	})
	if err != nil {
		return wrap("check instance type "+instanceType, err)
	}
	if len(out.InstanceTypeOfferings) == 0 {
		return &Error{Step: "check instance type", Code: "InstanceTypeNotOffered",
			msg: fmt.Sprintf("instance type %s is not offered in region %s (aws ec2 describe-instance-type-offerings --region %s lists the ones that are)",
				instanceType, p.region, p.region)}
	}
	return nil
}

func toInstanceTypes(ts []string) []ec2types.InstanceType {
	out := make([]ec2types.InstanceType, len(ts))
	for i, t := range ts {
		out[i] = ec2types.InstanceType(t)
	}
	return out
}

// network finds the VPC and subnets: the given subnets, or the default
// VPC's default subnets.
func (r *run) network(ctx context.Context) error {
	if len(r.spec.SubnetIDs) > 0 {
		out, err := r.p.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: r.spec.SubnetIDs})
		if err != nil {
			return wrap("describe subnets", err)
		}
		for _, s := range out.Subnets {
			if r.vpcID == "" {
				r.vpcID = aws.ToString(s.VpcId)
			} else if r.vpcID != aws.ToString(s.VpcId) {
				return &Error{Step: "check subnets", msg: "the subnets are in different VPCs"}
			}
			r.subnets = append(r.subnets, aws.ToString(s.SubnetId))
		}
		return nil
	}
	vpcs, err := r.p.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}},
	})
	if err != nil {
		return wrap("find the default VPC", err)
	}
	if len(vpcs.Vpcs) == 0 {
		return &Error{Step: "find the default VPC", msg: fmt.Sprintf("region %s has no default VPC: pass --subnet", r.p.region)}
	}
	r.vpcID = aws.ToString(vpcs.Vpcs[0].VpcId)
	subnets, err := r.p.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{r.vpcID}},
		{Name: aws.String("default-for-az"), Values: []string{"true"}},
	}})
	if err != nil {
		return wrap("describe the default subnets", err)
	}
	for _, s := range subnets.Subnets {
		r.subnets = append(r.subnets, aws.ToString(s.SubnetId))
	}
	if len(r.subnets) == 0 {
		return &Error{Step: "find the default subnets", msg: fmt.Sprintf("the default VPC %s has no default subnets: pass --subnet", r.vpcID)}
	}
	// A stable order: the manager always goes to the same subnet.
	slices.Sort(r.subnets)
	return nil
}
