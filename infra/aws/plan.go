package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"
)

// Operations of an Action.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpStart  = "start"
	OpKeep   = "keep"
	OpDelete = "delete"
	OpSkip   = "skip" // exists but is not this cluster's: left alone
)

// Action is one step of a plan: what Up would do (Plan) or did (Up).
type Action struct {
	Op   string
	Kind string // "key pair", "security group", "ingress rule", ...
	Name string
	Note string
}

func (a Action) String() string {
	s := fmt.Sprintf("%-7s %s %s", a.Op, a.Kind, a.Name)
	if a.Note != "" {
		s += " (" + a.Note + ")"
	}
	return s
}

// Plan is the outcome of a read-only look at what Up has to do.
type Plan struct {
	Cluster string
	Region  string
	AMI     string
	Actions []Action
	// Estimate is the hourly cost of the whole cluster as specified.
	Estimate Estimate
}

// Changes counts the actions that change something.
func (p Plan) Changes() int {
	n := 0
	for _, a := range p.Actions {
		if a.Op != OpKeep && a.Op != OpSkip {
			n++
		}
	}
	return n
}

func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s in %s (image %s):\n", p.Cluster, p.Region, p.AMI)
	for _, a := range p.Actions {
		b.WriteString("  " + a.String() + "\n")
	}
	return b.String()
}

// Result is what Up did.
type Result struct {
	Plan
	// PrivateKey is the PEM private key of a key pair AWS created in this
	// call (AWS returns it once); empty when the key pair existed or was
	// imported.
	PrivateKey string
	ManagerID  string
	PublicIP   string
	PrivateIP  string
}

// Plan shows what Up would create or change for spec. It makes only
// read calls (Describe/Get/List): nothing changes.
func (p *Provider) Plan(ctx context.Context, spec Spec) (Plan, error) {
	r, err := p.converge(ctx, spec, true)
	if err != nil {
		return Plan{}, err
	}
	return r.Plan, nil
}

// Up creates what is missing of the cluster and fixes what differs from
// spec, in dependency order. Re-running it with the same spec changes
// nothing. A halted cluster is started again.
func (p *Provider) Up(ctx context.Context, spec Spec) (Result, error) {
	return p.converge(ctx, spec, false)
}

// converge observes and converges until a pass finds no create racing an
// object already there. Each object may be found so once: a second time
// means it is not a lost answer but a real conflict, and Up fails.
func (p *Provider) converge(ctx context.Context, spec Spec, dry bool) (Result, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return Result{}, err
	}
	var key string
	seen := map[string]bool{}
	for {
		res, err := p.convergeOnce(ctx, spec, dry)
		if res.PrivateKey == "" {
			res.PrivateKey = key // made by an earlier pass of this Up
		}
		key = res.PrivateKey
		var stale *staleViewError
		if !errors.As(err, &stale) || seen[stale.kind+"/"+stale.name] {
			return res, err
		}
		seen[stale.kind+"/"+stale.name] = true
		p.log.Info("a create found its object already there (a lost answer, or another Up); observing again",
			zap.String("cluster", spec.Name), zap.String("kind", stale.kind), zap.String("name", stale.name))
	}
}

// convergeOnce observes and converges every resource once, in dependency order.
func (p *Provider) convergeOnce(ctx context.Context, spec Spec, dry bool) (Result, error) {
	r := &run{p: p, spec: spec, n: names{spec.Name}, dry: dry}
	r.res.Cluster, r.res.Region = spec.Name, p.region
	r.res.Estimate = EstimateSpec(spec)
	steps := []func(context.Context) error{
		r.preflight, r.network, r.keyPair, r.securityGroup, r.tokenParameter,
		r.instanceProfiles, r.managerTemplate, r.manager, r.workerTemplate,
		r.workerGroup, r.idleAlarm, r.waitManager,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return r.res, err
		}
	}
	return r.res, nil
}

// run is the state of one Plan or Up: what it found or created so far.
type run struct {
	p    *Provider
	spec Spec
	n    names
	dry  bool
	res  Result

	account     string
	rootDevice  string
	vpcID       string
	subnets     []string
	sgID        string
	templates   map[string]string // role -> launch template id
	managerID   string
	managerIP   string // private
	started     bool   // the manager was launched or started by this run
	policyARN   string
	groupExists bool
}

// act records an action and, unless this is a dry run, performs it.
func (r *run) act(a Action, do func() error) error {
	r.res.Actions = append(r.res.Actions, a)
	if r.dry || do == nil {
		return nil
	}
	if err := do(); err != nil {
		if a.Op == OpCreate && alreadyThere(err) {
			return &staleViewError{kind: a.Kind, name: a.Name, err: err}
		}
		return err
	}
	if a.Op != OpKeep && a.Op != OpSkip {
		r.p.log.Info("changed", zapAction(a)...)
	}
	return nil
}

// placeholder stands for an id that a dry run cannot know.
func placeholder(what string) string { return "(new " + what + ")" }
