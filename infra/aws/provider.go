package aws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"go.uber.org/zap"
)

// TagCluster is the tag key that marks a resource as belonging to a cluster.
const TagCluster = "simswarm:cluster"

// TagRole marks an instance or launch template as "manager" or "worker".
const TagRole = "simswarm:role"

// tagWorkers remembers the worker count on the Auto Scaling group, so that
// Resume restores it after Halt or the idle alarm set the group to 0.
const tagWorkers = "simswarm:workers"

// Roles of instances.
const (
	RoleManager = "manager"
	RoleWorker  = "worker"
)

// DefaultAMIParameter is the public SSM parameter naming the current Amazon Linux 2023 image.
const DefaultAMIParameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

// Options select the account, region and endpoint.
type Options struct {
	Region  string
	Profile string
	// EndpointURL replaces every service endpoint (emulators such as
	// moto_server, VPC endpoints); empty = AWS.
	EndpointURL string
	// Credentials replace the SDK's default chain (tests).
	Credentials aws.CredentialsProvider
	// APIOptions are added to every client's middleware stack (tests
	// record the operations called).
	APIOptions []func(*middleware.Stack) error
	// Logger receives one entry per change; nil logs nothing.
	Logger *zap.Logger
	// Now and Sleep are the clock (default time.Now and a context-aware
	// sleep); PollInterval and WaitTimeout bound waiting for instances
	// and deletions (default 5s and 10m).
	Now          func() time.Time
	Sleep        func(context.Context, time.Duration) error
	PollInterval time.Duration
	WaitTimeout  time.Duration
}

// Provider talks to EC2, Auto Scaling, CloudWatch, SSM, IAM and STS of one region.
type Provider struct {
	region string
	ec2    *ec2.Client
	asg    *autoscaling.Client
	cw     *cloudwatch.Client
	ssm    *ssm.Client
	iam    *iam.Client
	sts    *sts.Client
	log    *zap.Logger

	now          func() time.Time
	sleep        func(context.Context, time.Duration) error
	pollInterval time.Duration
	waitTimeout  time.Duration
}

// NewProvider loads credentials through the SDK's default chain (environment,
// shared files, profiles, instance roles). Nothing is called yet.
func NewProvider(ctx context.Context, o Options) (*Provider, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	if len(o.APIOptions) > 0 {
		opts = append(opts, config.WithAPIOptions(o.APIOptions))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, configError(o.Profile, err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region or set AWS_REGION (or region in ~/.aws/config)")
	}
	// Mark credential failures so that Friendly can tell them from API
	// errors without matching the SDK's wording.
	if cfg.Credentials != nil {
		cfg.Credentials = aws.NewCredentialsCache(markedCredentials{cfg.Credentials})
	}
	p := newProvider(cfg)
	p.log = o.Logger
	if p.log == nil {
		p.log = zap.NewNop()
	}
	p.now = o.Now
	if p.now == nil {
		p.now = time.Now
	}
	p.sleep = o.Sleep
	if p.sleep == nil {
		p.sleep = sleepCtx
	}
	p.pollInterval = o.PollInterval
	if p.pollInterval <= 0 {
		p.pollInterval = 5 * time.Second
	}
	p.waitTimeout = o.WaitTimeout
	if p.waitTimeout <= 0 {
		p.waitTimeout = 10 * time.Minute
	}
	return p, nil
}

func newProvider(cfg aws.Config) *Provider {
	return &Provider{
		region: cfg.Region,
		ec2:    ec2.NewFromConfig(cfg),
		asg:    autoscaling.NewFromConfig(cfg),
		// The query protocol: every CloudWatch endpoint accepts it, and
		// emulators (moto) route only it, not the newer CBOR protocol.
		cw: cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
			o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
		}),
		ssm: ssm.NewFromConfig(cfg),
		iam: iam.NewFromConfig(cfg),
		sts: sts.NewFromConfig(cfg),
	}
}

// Region is the region the provider works in.
func (p *Provider) Region() string { return p.region }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// poll calls cond every poll interval until it reports done, fails, or the
// wait timeout passes.
func (p *Provider) poll(ctx context.Context, what string, cond func() (bool, error)) error {
	deadline := p.now().Add(p.waitTimeout)
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		if p.now().After(deadline) {
			return fmt.Errorf("%s: not done after %v", what, p.waitTimeout)
		}
		if err := p.sleep(ctx, p.pollInterval); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}

var clusterNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

var instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)

var sshPublicKeyRE = regexp.MustCompile(`^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) AAAA[A-Za-z0-9+/=]+( [^\n]*)?$`)

// ValidateName checks a cluster name (it becomes part of resource names).
func ValidateName(name string) error {
	if !clusterNameRE.MatchString(name) {
		return fmt.Errorf("cluster name %q: want 1-31 of a-z, 0-9 and '-', starting with a letter or digit", name)
	}
	return nil
}

// names of one cluster's resources.
type names struct{ cluster string }

func (n names) prefix() string        { return "simswarm-" + n.cluster }
func (n names) keyPair() string       { return n.prefix() }
func (n names) securityGroup() string { return n.prefix() }
func (n names) launchTemplate(role string) string {
	return n.prefix() + "-" + role
}
func (n names) role(role string) string { return n.prefix() + "-" + role }
func (n names) asg() string             { return n.prefix() + "-workers" }
func (n names) alarm() string           { return n.prefix() + "-idle" }
func (n names) scaleInPolicy() string   { return n.prefix() + "-idle-scale-in" }
func (n names) tokenParameter() string  { return "/simswarm/" + n.cluster + "/worker-join-token" }
