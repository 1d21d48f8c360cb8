package api

// KindStack is the kind of the settings object that describes the swarm
// stack simswarm runs on (services, networks, images, CPU reservations).
const KindStack = "Stack"

// DefaultStackName is the stack's name when the manifest gives none. It
// prefixes every swarm object ("simswarm_runner", "simswarm_interlink"),
// the same convention `docker stack deploy` uses.
const DefaultStackName = "simswarm"

// Endpoint modes of swarm services. The machines simswarm is built for have
// no IPVS, so virtual IPs do not work there; dnsrr is also what long-lived
// Redis/Mongo connections want (IPVS drops idle connections).
const (
	EndpointModeDNSRR = "dnsrr"
	EndpointModeVIP   = "vip"
)

// Stack is the desired shape of simswarm's own swarm stack. Every field has
// a default, so an empty Stack (apart from TypeMeta) is a working stack.
type Stack struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta `json:"metadata"`
	Spec     StackSpec  `json:"spec,omitempty"`
}

// StackSpec holds the stack's settings.
type StackSpec struct {
	Images     StackImages        `json:"images,omitempty"`
	Runner     RunnerSettings     `json:"runner,omitempty"`
	Manager    ManagerSettings    `json:"manager,omitempty"`
	Controller ControllerSettings `json:"controller,omitempty"`
	Distcc     DistccSettings     `json:"distcc,omitempty"`
	Volumes    StackVolumes       `json:"volumes,omitempty"`
	// EndpointMode of every service: dnsrr (default) or vip.
	EndpointMode string `json:"endpointMode,omitempty"`
	// Visualizer is the optional swarm visualizer addon.
	Visualizer VisualizerSettings `json:"visualizer,omitempty"`
}

// StackImages names the images of the stack's services.
type StackImages struct {
	// Controller runs `simswarm controller` (API, dashboard, reconcilers).
	Controller string `json:"controller,omitempty"`
	// Worker runs `simswarm worker` for builders and runners; it is built on
	// the simulation toolchain (e.g. an OMNeT++ image) and carries distcc.
	Worker string `json:"worker,omitempty"`
	// Distcc runs distccd on every node; default: the worker image, so the
	// compilers match the builder's.
	Distcc string `json:"distcc,omitempty"`
	Redis  string `json:"redis,omitempty"`
	// Mongo is a MongoDB (or MongoDB-wire-compatible) server.
	Mongo string `json:"mongo,omitempty"`
}

// RunnerSettings shape the runner service.
type RunnerSettings struct {
	// CPUReservation is the CPUs each runner slot stands for: a node's
	// runner (one per node) runs floor(its CPUs, minus the manager
	// reserve on a manager, / CPUReservation) simulations at once.
	// Default 0.95: one run per core, leaving a little for the node's own
	// processes.
	CPUReservation *float64 `json:"cpuReservation,omitempty"`
	// MaxReplicas caps the runner slots of the whole stack (0 = no cap),
	// granted to nodes in node ID order. (Its name is from when each slot
	// was a replica.)
	MaxReplicas int32 `json:"maxReplicas,omitempty"`
	// ExcludeLabel: nodes whose label of this name is "false" run no
	// runners. Default io.simswarm.runner (swarm constraints allow no "/" in label names).
	ExcludeLabel string `json:"excludeLabel,omitempty"`
	// Prefetch is how many tasks a runner holds per slot beyond the one
	// the slot runs (simswarm worker --prefetch with --node-id). Unset: 1,
	// which keeps a slot busy while it stores a short run's results; 0
	// for long runs of uneven length, so that no task waits behind a busy
	// slot at a campaign's end.
	Prefetch *int32 `json:"prefetch,omitempty"`
}

// ManagerSettings say how much of the manager simswarm keeps for itself.
type ManagerSettings struct {
	// CPUReserve is the CPUs of every manager node not handed to runners
	// (controller, redis, mongo, builder live there). Default 1.
	CPUReserve *float64 `json:"cpuReserve,omitempty"`
	// RunRunners lets managers run runners with what their reserve leaves.
	// Default true (a one-node swarm must be able to run something).
	RunRunners *bool `json:"runRunners,omitempty"`
}

// ControllerSettings shape the controller service.
type ControllerSettings struct {
	// Port is the only published port of the stack: the API and the
	// dashboard, published in host mode on the manager. Default 8080.
	Port int32 `json:"port,omitempty"`
	// APITokenSecret is the swarm secret (without the stack prefix) holding
	// the API token. Default "api-token".
	APITokenSecret string `json:"apiTokenSecret,omitempty"`
	// DockerSocket is the engine socket on the manager host that the
	// controller (and visualizer) mount to manage the swarm. Default
	// /var/run/docker.sock.
	DockerSocket string `json:"dockerSocket,omitempty"`
}

// DistccSettings shape the global distcc service.
type DistccSettings struct {
	// Port distccd listens on inside buildnet. Default 3632.
	Port int32 `json:"port,omitempty"`
	// Allow is the client network distccd accepts. Default 10.0.0.0/8 (the
	// swarm's default overlay address pool).
	Allow string `json:"allow,omitempty"`
}

// StackVolumes name the stack's volumes (without the stack prefix).
type StackVolumes struct {
	// Mongo holds the database and GridFS. Default "mongo-data".
	Mongo string `json:"mongo,omitempty"`
}

// VisualizerSettings enable the optional visualizer addon. It publishes no
// port (only the controller does); reach it through the dashboard host.
type VisualizerSettings struct {
	Enabled bool   `json:"enabled,omitempty"`
	Image   string `json:"image,omitempty"`
}
