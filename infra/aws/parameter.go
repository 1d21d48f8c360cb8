package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// tokenPlaceholder is the value of the join-token parameter until the
// manager has run docker swarm init and overwritten it; workers wait for a
// value that starts with SWMTKN-.
const tokenPlaceholder = "pending"

// findParameter returns the metadata of the cluster's join-token
// parameter, nil if it does not exist.
func (p *Provider) findParameter(ctx context.Context, n names) (*ssmtypes.ParameterMetadata, error) {
	out, err := p.ssm.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{n.tokenParameter()}},
	}})
	if err != nil {
		return nil, wrap("describe parameter "+n.tokenParameter(), err)
	}
	if len(out.Parameters) == 0 {
		return nil, nil
	}
	return &out.Parameters[0], nil
}

// parameterIsOurs reads the parameter's tags.
func (p *Provider) parameterIsOurs(ctx context.Context, n names) (bool, error) {
	out, err := p.ssm.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(n.tokenParameter()),
	})
	if err != nil {
		return false, wrap("list tags of parameter "+n.tokenParameter(), err)
	}
	for _, t := range out.TagList {
		if aws.ToString(t.Key) == TagCluster && aws.ToString(t.Value) == n.cluster {
			return true, nil
		}
	}
	return false, nil
}

// tokenParameter creates the tagged SecureString that the manager fills
// with the worker join token. simswarm itself never reads or writes the
// token: only the instances' roles can.
func (r *run) tokenParameter(ctx context.Context) error {
	name := r.n.tokenParameter()
	meta, err := r.p.findParameter(ctx, r.n)
	if err != nil {
		return err
	}
	if meta != nil {
		ours, err := r.p.parameterIsOurs(ctx, r.n)
		if err != nil {
			return err
		}
		if !ours {
			return r.n.notOurs("SSM parameter", name)
		}
		return r.act(Action{Op: OpKeep, Kind: "SSM parameter", Name: name}, nil)
	}
	return r.act(Action{Op: OpCreate, Kind: "SSM parameter", Name: name, Note: "SecureString; the manager stores the worker join token in it"}, func() error {
		_, err := r.p.ssm.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(name), Type: ssmtypes.ParameterTypeSecureString, Value: aws.String(tokenPlaceholder),
			Description: aws.String("swarm worker join token of simswarm cluster " + r.n.cluster),
			Tags:        r.n.ssmTags(),
		})
		return wrap("create parameter "+name, err)
	})
}
