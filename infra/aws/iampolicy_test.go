package aws

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// iamPrefix maps the SDK's service ids to IAM action prefixes.
var iamPrefix = map[string]string{"EC2": "ec2", "Auto Scaling": "autoscaling", "CloudWatch": "cloudwatch", "SSM": "ssm", "IAM": "iam", "STS": "sts"}

// implicitPermissions are needed by calls simswarm makes without being
// calls themselves: tagging on create, handing the instance roles to EC2,
// the service-linked roles of Auto Scaling and of alarm EC2 actions.
var implicitPermissions = []string{"ec2:CreateTags", "ssm:AddTagsToResource", "cloudwatch:TagResource", "iam:TagRole",
	"iam:TagInstanceProfile", "iam:PassRole", "iam:CreateServiceLinkedRole"}

// documentedPolicy is the IAM policy in infra/README.md.
func documentedPolicy(t *testing.T) (actions []string, doc string) {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- iam-policy -->\\s*```json\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("infra/README.md has no ```json block after <!-- iam-policy -->")
	}
	var pol struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource any
		}
	}
	if err := json.Unmarshal(m[1], &pol); err != nil {
		t.Fatalf("the IAM policy in infra/README.md: %v", err)
	}
	for _, s := range pol.Statement {
		if s.Effect != "Allow" || s.Resource == nil {
			t.Errorf("statement %+v: want Effect Allow and a Resource", s)
		}
		actions = append(actions, s.Action...)
	}
	return actions, string(m[1])
}

// TestClusterIAMPolicyCoversExactlyTheCallsMade: every call path (up from
// nothing and converging, an imported key, plan, status, host keys, halt,
// resume, idle stop removed, destroy) is recorded; the documented policy
// allows exactly those operations plus the implicit permissions, nothing
// more and nothing less, with no wildcard actions.
func TestClusterIAMPolicyCoversExactlyTheCallsMade(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	spec := testSpec("iam")
	_, err := p.Plan(ctx, spec)
	step("plan", err)
	res, err := p.Up(ctx, spec)
	step("up", err)
	sg, err := p.findSecurityGroup(ctx, names{"iam"}, "")
	step("find group", err)
	calls := e.ops.take()
	_, err = p.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	step("foreign rule", err)
	e.ops.take() // the test's own call
	spec.Workers, spec.Idle.Threshold = 3, 5
	_, err = p.Up(ctx, spec)
	step("up with more workers", err)
	_, err = p.Status(ctx, "iam")
	step("status", err)
	if _, err := p.HostKeys(ctx, res.ManagerID); err != ErrNoHostKeys {
		t.Fatal(err)
	}
	_, err = p.Halt(ctx, "iam")
	step("halt", err)
	_, err = p.Resume(ctx, "iam")
	step("resume", err)
	spec.Idle = IdleSpec{Disabled: true}
	_, err = p.Up(ctx, spec)
	step("up without idle stop", err)
	// Last: moto 5.2 cannot launch from a template version made by
	// CreateLaunchTemplateVersion, so nothing scales up after this.
	spec.WorkerType = "t3.large"
	_, err = p.Up(ctx, spec)
	step("up with another type", err)
	imp := testSpec("imp")
	imp.PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuTNjS5UCbtd5ae1RcLzwy8oCg6JXdTaGnIZ3dzpZdM"
	_, err = p.Up(ctx, imp)
	step("up with an imported key", err)
	for _, c := range []string{"iam", "imp", "iam"} {
		_, err = p.Destroy(ctx, c)
		step("destroy", err)
	}

	used := map[string]bool{}
	for _, op := range append(calls, e.ops.take()...) {
		svc, name, _ := strings.Cut(op, ".")
		used[iamPrefix[svc]+":"+name] = true
	}
	for _, a := range implicitPermissions {
		used[a] = true
	}
	documented, doc := documentedPolicy(t)
	if strings.Contains(doc, `*"`) && regexp.MustCompile(`"[a-z]+:[A-Za-z]*\*"`).MatchString(doc) {
		t.Error("the policy uses wildcard actions")
	}
	var missing, extra []string
	for a := range used {
		if !slices.Contains(documented, a) {
			missing = append(missing, a)
		}
	}
	for _, a := range documented {
		if !used[a] {
			extra = append(extra, a)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("calls made but not in the policy: %q", missing)
	}
	if len(extra) > 0 {
		t.Errorf("in the policy but never called: %q", extra)
	}
}
