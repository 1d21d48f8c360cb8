package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// findKeyPair returns the key pair of the cluster's name, nil if none.
func (p *Provider) findKeyPair(ctx context.Context, n names) (*ec2types.KeyPairInfo, error) {
	out, err := p.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{n.keyPair()}})
	if isCode(err, "InvalidKeyPair.NotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("describe key pair "+n.keyPair(), err)
	}
	if len(out.KeyPairs) == 0 {
		return nil, nil
	}
	return &out.KeyPairs[0], nil
}

// keyPair imports the user's public key or lets AWS create an ed25519 key
// pair, whose private key Up hands back once.
func (r *run) keyPair(ctx context.Context) error {
	name := r.n.keyPair()
	kp, err := r.p.findKeyPair(ctx, r.n)
	if err != nil {
		return err
	}
	if kp != nil {
		if !ec2HasTag(kp.Tags, TagCluster, r.n.cluster) {
			return r.n.notOurs("key pair", name)
		}
		return r.act(Action{Op: OpKeep, Kind: "key pair", Name: name}, nil)
	}
	tags := r.n.ec2TagSpec(ec2types.ResourceTypeKeyPair, name, "")
	if r.spec.PublicKey != "" {
		return r.act(Action{Op: OpCreate, Kind: "key pair", Name: name, Note: "imported public key"}, func() error {
			_, err := r.p.ec2.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
				KeyName: aws.String(name), PublicKeyMaterial: []byte(r.spec.PublicKey), TagSpecifications: tags,
			})
			return wrap("import key pair "+name, err)
		})
	}
	return r.act(Action{Op: OpCreate, Kind: "key pair", Name: name, Note: "ed25519, private key saved locally"}, func() error {
		create := func() (*ec2.CreateKeyPairOutput, error) {
			return r.p.ec2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{
				KeyName: aws.String(name), KeyType: ec2types.KeyTypeEd25519, KeyFormat: ec2types.KeyFormatPem, TagSpecifications: tags,
			})
		}
		out, err := create()
		if isCode(err, "InvalidKeyPair.Duplicate") {
			// The answer to our own first attempt was lost, and with it the
			// only copy of the private key: a key pair nobody can use. Make
			// it again (only one that carries the cluster's tag).
			kp, ferr := r.p.findKeyPair(ctx, r.n)
			if ferr != nil || kp == nil || !ec2HasTag(kp.Tags, TagCluster, r.n.cluster) {
				return wrap("create key pair "+name, err)
			}
			if _, derr := r.p.ec2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(name)}); derr != nil {
				return wrap("delete unusable key pair "+name, derr)
			}
			out, err = create()
		}
		if err != nil {
			return wrap("create key pair "+name, err)
		}
		r.res.PrivateKey = aws.ToString(out.KeyMaterial)
		return nil
	})
}
