package aws

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// ec2Tags are the tags of an EC2 resource of the cluster.
func (n names) ec2Tags(name, role string) []ec2types.Tag {
	t := []ec2types.Tag{{Key: aws.String(TagCluster), Value: aws.String(n.cluster)}, {Key: aws.String("Name"), Value: aws.String(name)}}
	if role != "" {
		t = append(t, ec2types.Tag{Key: aws.String(TagRole), Value: aws.String(role)})
	}
	return t
}

func (n names) ec2TagSpec(rt ec2types.ResourceType, name, role string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: n.ec2Tags(name, role)}}
}

func (n names) iamTags() []iamtypes.Tag {
	return []iamtypes.Tag{{Key: aws.String(TagCluster), Value: aws.String(n.cluster)}}
}

func (n names) ssmTags() []ssmtypes.Tag {
	return []ssmtypes.Tag{{Key: aws.String(TagCluster), Value: aws.String(n.cluster)}}
}

func (n names) cwTags() []cwtypes.Tag {
	return []cwtypes.Tag{{Key: aws.String(TagCluster), Value: aws.String(n.cluster)}}
}

// ec2Filter selects the cluster's EC2 resources.
func (n names) ec2Filter() ec2types.Filter {
	return ec2types.Filter{Name: aws.String("tag:" + TagCluster), Values: []string{n.cluster}}
}

func ec2HasTag(tags []ec2types.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

func ec2Tag(tags []ec2types.Tag, k string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == k {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func asgTag(tags []astypes.TagDescription, k string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == k {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}

func iamHasTag(tags []iamtypes.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

// notOurs is the refusal to adopt or delete a resource that has this
// cluster's name but not its tag.
func (n names) notOurs(kind, name string) error {
	return fmt.Errorf("%s %s exists but is not tagged %s=%s: refusing to use or delete it (remove it yourself or pick another cluster name)", kind, name, TagCluster, n.cluster)
}

// isCode reports whether err is an AWS API error with one of codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
