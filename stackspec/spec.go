package stackspec

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/api"
)

// Labels every stack object carries.
const (
	LabelStack    = "simswarm.io/stack"
	LabelSpecHash = "simswarm.io/spec-hash"
	// LabelComponent names the stack member ("runner", "interlink").
	LabelComponent = "simswarm.io/component"
)

// Component names: the suffix of each object's name after "<stack>_".
const (
	Controller = "controller"
	Redis      = "redis"
	Mongo      = "mongo"
	Builder    = "builder"
	Runner     = "runner"
	Distcc     = "distcc"
	Visualizer = "visualizer"
	Interlink  = "interlink"
	Buildnet   = "buildnet"
)

// In-container paths and ports.
const (
	DockerSocket   = "/var/run/docker.sock"
	MongoDataDir   = "/data/db"
	RedisPort      = 6379
	MongoPort      = 27017
	apiTokenTarget = "api-token"
)

// StackManifestEnv carries the Stack (JSON) into the controller service;
// a controller that finds it reconciles that stack while it leads.
const StackManifestEnv = "SIMSWARM_STACK_MANIFEST"

// manifest is the Stack as compact JSON (map keys sorted: deterministic).
func (b builder) manifest() string {
	data, err := json.Marshal(b.s)
	if err != nil {
		panic("stackspec: marshal Stack: " + err.Error()) // plain data: cannot fail
	}
	return string(data)
}

// Desired is the stack as it should be.
type Desired struct {
	Services []Service `json:"services"`
	Networks []Network `json:"networks"`
	// RunnerSlots is each node's runner slot count (RunnerSlots), which
	// the reconciler publishes for the runners: the runner service itself
	// is global and the same whatever the nodes.
	RunnerSlots map[string]int `json:"runnerSlots"`
}

// Service is one desired swarm service.
type Service struct {
	Component string            `json:"component"`
	Name      string            `json:"name"`
	Hash      string            `json:"hash"`
	Spec      swarm.ServiceSpec `json:"spec"`
	// SecretNames are the swarm secrets Spec refers to by name; a
	// reconciler fills their IDs in before creating the service.
	SecretNames []string `json:"secretNames,omitempty"`
}

// Network is one desired overlay network.
type Network struct {
	Component  string            `json:"component"`
	Name       string            `json:"name"`
	Hash       string            `json:"hash"`
	Driver     string            `json:"driver"`
	Attachable bool              `json:"attachable"`
	Labels     map[string]string `json:"labels"`
}

// ObjectName is the swarm name of a stack member: "<stack>_<component>".
func ObjectName(s *api.Stack, component string) string {
	return s.Metadata.Name + "_" + component
}

// Build computes the desired services and networks of a defaulted, valid
// Stack for the given nodes. Services and networks are sorted by name.
func Build(s *api.Stack, nodes []Node) (*Desired, error) {
	if err := api.ValidateStack(s); err != nil {
		return nil, fmt.Errorf("build stack spec: %w", err)
	}
	b := builder{s: s}
	d := &Desired{RunnerSlots: RunnerSlots(s, nodes)}
	for _, comp := range []string{Interlink, Buildnet} {
		d.Networks = append(d.Networks, b.network(comp))
	}
	d.Services = []Service{
		b.controller(), b.redis(), b.mongo(), b.builderSvc(),
		b.runner(), b.distcc(),
	}
	if s.Spec.Visualizer.Enabled {
		d.Services = append(d.Services, b.visualizer())
	}
	for i := range d.Services {
		svc := &d.Services[i]
		svc.Hash = Fingerprint(svc.Spec, nil)
		svc.Spec.Labels[LabelSpecHash] = svc.Hash
	}
	sort.Slice(d.Services, func(i, j int) bool { return d.Services[i].Name < d.Services[j].Name })
	return d, nil
}

type builder struct{ s *api.Stack }

func (b builder) name(comp string) string { return ObjectName(b.s, comp) }

func (b builder) labels(comp string) map[string]string {
	return map[string]string{LabelStack: b.s.Metadata.Name, LabelComponent: comp}
}

func (b builder) network(comp string) Network {
	n := Network{Component: comp, Name: b.name(comp), Driver: "overlay", Attachable: true, Labels: b.labels(comp)}
	n.Hash = NetworkFingerprint(n.Driver, n.Attachable, n.Labels)
	n.Labels[LabelSpecHash] = n.Hash
	return n
}

// service is the skeleton every stack service shares.
func (b builder) service(comp, image string, nets ...string) swarm.ServiceSpec {
	delay := 2 * time.Second
	grace := 30 * time.Second
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: b.name(comp), Labels: b.labels(comp)},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:           image,
				Labels:          b.labels(comp),
				StopGracePeriod: &grace,
			},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: &delay},
		},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionMode(b.s.Spec.EndpointMode)},
	}
	for _, n := range nets {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks,
			swarm.NetworkAttachmentConfig{Target: b.name(n), Aliases: []string{comp}})
	}
	return spec
}

func replicated(spec *swarm.ServiceSpec, n uint64) {
	spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
}

func onManager(spec *swarm.ServiceSpec) {
	spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.role==manager"}}
}

// commonEnv tells every simswarm process where the stack's stores are.
// simswarm commands read every flag from SIMSWARM_<FLAG> (--redis from
// SIMSWARM_REDIS), so these are the commands' flags.
func (b builder) commonEnv() []string {
	return []string{
		"SIMSWARM_STACK=" + b.s.Metadata.Name,
		"SIMSWARM_REDIS=redis://" + Redis + ":" + strconv.Itoa(RedisPort) + "/0",
		"SIMSWARM_MONGO=mongodb://" + Mongo + ":" + strconv.Itoa(MongoPort) + "/simswarm",
	}
}

func (b builder) controller() Service {
	sp := b.s.Spec
	spec := b.service(Controller, sp.Images.Controller, Interlink)
	c := spec.TaskTemplate.ContainerSpec
	c.Args = []string{"controller"}
	c.Env = append(b.commonEnv(),
		// The controller reconciles the stack from this very manifest, so
		// a changed Stack rolls the controller with the new settings.
		StackManifestEnv+"="+b.manifest(),
		"SIMSWARM_LISTEN=:"+strconv.Itoa(int(sp.Controller.Port)),
		"SIMSWARM_TOKEN_FILE=/run/secrets/"+apiTokenTarget,
	)
	c.Mounts = []mount.Mount{{Type: mount.TypeBind, Source: sp.Controller.DockerSocket, Target: DockerSocket}}
	secret := b.name(sp.Controller.APITokenSecret)
	c.Secrets = []*swarm.SecretReference{{
		SecretName: secret,
		File:       &swarm.SecretReferenceFileTarget{Name: apiTokenTarget, UID: "0", GID: "0", Mode: 0o400},
	}}
	spec.EndpointSpec.Ports = []swarm.PortConfig{{
		Protocol:      swarm.PortConfigProtocolTCP,
		TargetPort:    uint32(sp.Controller.Port),
		PublishedPort: uint32(sp.Controller.Port),
		PublishMode:   swarm.PortConfigPublishModeHost,
	}}
	replicated(&spec, 1)
	onManager(&spec)
	return Service{Component: Controller, Name: spec.Name, Spec: spec, SecretNames: []string{secret}}
}

func (b builder) redis() Service {
	spec := b.service(Redis, b.s.Spec.Images.Redis, Interlink)
	// The queue is a cache of desired state: no persistence needed. Redis
	// is reachable only inside the stack's overlay network, where the
	// other services connect from their own addresses: protected mode
	// (loopback only without a password) would refuse them.
	spec.TaskTemplate.ContainerSpec.Args = []string{"redis-server", "--save", "", "--appendonly", "no", "--protected-mode", "no"}
	replicated(&spec, 1)
	onManager(&spec)
	return Service{Component: Redis, Name: spec.Name, Spec: spec}
}

func (b builder) mongo() Service {
	spec := b.service(Mongo, b.s.Spec.Images.Mongo, Interlink)
	vol := b.name(b.s.Spec.Volumes.Mongo)
	spec.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{
		Type: mount.TypeVolume, Source: vol, Target: MongoDataDir,
		VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{LabelStack: b.s.Metadata.Name}},
	}}
	replicated(&spec, 1)
	// The volume lives on the manager: pin mongo there so it finds it again.
	onManager(&spec)
	return Service{Component: Mongo, Name: spec.Name, Spec: spec}
}

func (b builder) builderSvc() Service {
	spec := b.service(Builder, b.s.Spec.Images.Worker, Interlink, Buildnet)
	c := spec.TaskTemplate.ContainerSpec
	c.Args = []string{"worker"}
	// The builder reads the distcc host list the controller publishes under
	// schema.DistccHostsKey in the stack's Redis at every build, and waits for one
	// while the distcc tasks of a fresh stack are starting.
	c.Env = append(b.commonEnv(), "SIMSWARM_ROLE=build", "SIMSWARM_DISTCC_WAIT=1m")
	replicated(&spec, 1)
	onManager(&spec)
	return Service{Component: Builder, Name: spec.Name, Spec: spec}
}

// runner is one runner per node (global): it runs as many simulations at
// once as the slot count the reconciler publishes for its node (Swarm
// templates give a task its node's ID, not its CPUs or role), so
// processes, queue polls and database connections grow with nodes, not
// CPUs. No CPU reservation: the slot count is the CPU guarantee, and a
// global task must not wait for room.
func (b builder) runner() Service {
	sp := b.s.Spec
	spec := b.service(Runner, sp.Images.Worker, Interlink)
	c := spec.TaskTemplate.ContainerSpec
	c.Args = []string{"worker"}
	c.Env = append(b.commonEnv(), "SIMSWARM_ROLE=run", NodeIDEnv+"={{.Node.ID}}")
	if p := sp.Runner.Prefetch; p != nil {
		// Per slot, as it was per replica of one slot.
		c.Env = append(c.Env, fmt.Sprintf("SIMSWARM_PREFETCH=%d", *p))
	}
	constraints := []string{"node.labels." + sp.Runner.ExcludeLabel + "!=false"}
	if !*sp.Manager.RunRunners {
		constraints = append(constraints, "node.role==worker")
	}
	spec.TaskTemplate.Placement = &swarm.Placement{Constraints: constraints}
	spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	return Service{Component: Runner, Name: spec.Name, Spec: spec}
}

func (b builder) distcc() Service {
	sp := b.s.Spec
	spec := b.service(Distcc, sp.Images.Distcc, Buildnet)
	spec.TaskTemplate.ContainerSpec.Command = []string{
		// --log-level info: one line per compile job served (COMPILE_OK), so
		// `docker service logs` shows that builds really are distributed.
		"distccd", "--daemon", "--no-detach", "--log-stderr", "--log-level", "info",
		"--port", strconv.Itoa(int(sp.Distcc.Port)), "--allow", sp.Distcc.Allow,
	}
	// distccd as PID 1 would ignore SIGTERM: run it under docker-init.
	init := true
	spec.TaskTemplate.ContainerSpec.Init = &init
	spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	return Service{Component: Distcc, Name: spec.Name, Spec: spec}
}

func (b builder) visualizer() Service {
	spec := b.service(Visualizer, b.s.Spec.Visualizer.Image, Interlink)
	spec.TaskTemplate.ContainerSpec.Mounts = []mount.Mount{{Type: mount.TypeBind, Source: b.s.Spec.Controller.DockerSocket, Target: DockerSocket, ReadOnly: true}}
	replicated(&spec, 1)
	onManager(&spec)
	return Service{Component: Visualizer, Name: spec.Name, Spec: spec}
}
