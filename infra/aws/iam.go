package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// rolePolicyName is the name of the inline policy of the instance roles.
const rolePolicyName = "simswarm-join-token"

const ec2TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// instancePolicy is what an instance of role may do: the manager writes
// the join-token parameter, the workers read it. Nothing else.
func (r *run) instancePolicy(role string) string {
	action := "ssm:GetParameter"
	if role == RoleManager {
		action = "ssm:PutParameter"
	}
	arn := fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", r.p.region, r.account, r.n.tokenParameter())
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": []string{action}, "Resource": arn,
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// instanceProfiles makes a role and an instance profile per role, each
// allowed exactly its side of the join-token exchange.
func (r *run) instanceProfiles(ctx context.Context) error {
	for _, role := range []string{RoleManager, RoleWorker} {
		if err := r.instanceProfile(ctx, role); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) instanceProfile(ctx context.Context, role string) error {
	name := r.n.role(role)
	got, err := r.p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	switch {
	case isCode(err, "NoSuchEntity"):
		err := r.act(Action{Op: OpCreate, Kind: "IAM role", Name: name}, func() error {
			_, err := r.p.iam.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy),
				Description: aws.String("simswarm cluster " + r.n.cluster + " " + role + " instances"),
				Tags:        r.n.iamTags(),
			})
			return wrap("create IAM role "+name, err)
		})
		if err != nil {
			return err
		}
	case err != nil:
		return wrap("get IAM role "+name, err)
	case !iamHasTag(got.Role.Tags, TagCluster, r.n.cluster):
		return r.n.notOurs("IAM role", name)
	default:
		if err := r.act(Action{Op: OpKeep, Kind: "IAM role", Name: name}, nil); err != nil {
			return err
		}
	}

	want := r.instancePolicy(role)
	op := OpCreate
	if got != nil {
		pol, err := r.p.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(rolePolicyName)})
		switch {
		case isCode(err, "NoSuchEntity"):
		case err != nil:
			return wrap("get policy of IAM role "+name, err)
		case samePolicy(aws.ToString(pol.PolicyDocument), want):
			op = OpKeep
		default:
			op = OpUpdate
		}
	}
	err = r.act(Action{Op: op, Kind: "IAM role policy", Name: name + "/" + rolePolicyName}, func() error {
		if op == OpKeep {
			return nil
		}
		_, err := r.p.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName: aws.String(name), PolicyName: aws.String(rolePolicyName), PolicyDocument: aws.String(want),
		})
		return wrap("put policy of IAM role "+name, err)
	})
	if err != nil {
		return err
	}

	prof, err := r.p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	switch {
	case isCode(err, "NoSuchEntity"):
		return r.act(Action{Op: OpCreate, Kind: "instance profile", Name: name}, func() error {
			if _, err := r.p.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
				InstanceProfileName: aws.String(name), Tags: r.n.iamTags(),
			}); err != nil {
				return wrap("create instance profile "+name, err)
			}
			_, err := r.p.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
				InstanceProfileName: aws.String(name), RoleName: aws.String(name),
			})
			return roleAdded(name, err)
		})
	case err != nil:
		return wrap("get instance profile "+name, err)
	case !iamHasTag(prof.InstanceProfile.Tags, TagCluster, r.n.cluster):
		return r.n.notOurs("instance profile", name)
	}
	for _, ro := range prof.InstanceProfile.Roles {
		if aws.ToString(ro.RoleName) == name {
			return r.act(Action{Op: OpKeep, Kind: "instance profile", Name: name}, nil)
		}
	}
	return r.act(Action{Op: OpUpdate, Kind: "instance profile", Name: name, Note: "attach role"}, func() error {
		_, err := r.p.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
			InstanceProfileName: aws.String(name), RoleName: aws.String(name),
		})
		return roleAdded(name, err)
	})
}

// samePolicy compares a policy document as IAM returns it (URL-encoded
// JSON) with ours.
func samePolicy(got, want string) bool {
	if dec, err := url.QueryUnescape(got); err == nil {
		got = dec
	}
	var a, b any
	if json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// roleAdded wraps the answer to AddRoleToInstanceProfile. A profile holds
// one role, so a retried call whose first answer was lost is refused with
// LimitExceeded: observe again, and the role is found attached.
func roleAdded(profile string, err error) error {
	err = wrap("add role to instance profile "+profile, err)
	if isCode(err, "LimitExceeded") {
		return &staleViewError{kind: "instance profile role", name: profile, err: err}
	}
	return err
}
