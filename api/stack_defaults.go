package api

// Defaults of the Stack kind.
const (
	DefaultControllerImage      = "simswarm/simswarm:latest"
	DefaultWorkerImage          = "simswarm/worker:latest"
	DefaultRedisImage           = "redis:7"
	DefaultMongoImage           = "mongo:7"
	DefaultVisualizerImage      = "dockersamples/visualizer:stable"
	DefaultRunnerCPUReservation = 0.95
	DefaultManagerCPUReserve    = 1.0
	DefaultRunnerExcludeLabel   = "io.simswarm.runner"
	DefaultControllerPort       = 8080
	DefaultAPITokenSecret       = "api-token"
	DefaultDockerSocket         = "/var/run/docker.sock"
	DefaultDistccPort           = 3632
	DefaultDistccAllow          = "10.0.0.0/8"
	DefaultMongoVolume          = "mongo-data"
)

// SetStackDefaults fills every field the user left out. It is idempotent.
func SetStackDefaults(s *Stack) {
	if s.APIVersion == "" {
		s.APIVersion = APIVersion
	}
	if s.Kind == "" {
		s.Kind = KindStack
	}
	if s.Metadata.Name == "" {
		s.Metadata.Name = DefaultStackName
	}
	sp := &s.Spec
	setString(&sp.Images.Controller, DefaultControllerImage)
	setString(&sp.Images.Worker, DefaultWorkerImage)
	setString(&sp.Images.Distcc, sp.Images.Worker)
	setString(&sp.Images.Redis, DefaultRedisImage)
	setString(&sp.Images.Mongo, DefaultMongoImage)
	if sp.Runner.CPUReservation == nil {
		v := DefaultRunnerCPUReservation
		sp.Runner.CPUReservation = &v
	}
	setString(&sp.Runner.ExcludeLabel, DefaultRunnerExcludeLabel)
	if sp.Manager.CPUReserve == nil {
		v := DefaultManagerCPUReserve
		sp.Manager.CPUReserve = &v
	}
	if sp.Manager.RunRunners == nil {
		v := true
		sp.Manager.RunRunners = &v
	}
	if sp.Controller.Port == 0 {
		sp.Controller.Port = DefaultControllerPort
	}
	setString(&sp.Controller.APITokenSecret, DefaultAPITokenSecret)
	setString(&sp.Controller.DockerSocket, DefaultDockerSocket)
	if sp.Distcc.Port == 0 {
		sp.Distcc.Port = DefaultDistccPort
	}
	setString(&sp.Distcc.Allow, DefaultDistccAllow)
	setString(&sp.Volumes.Mongo, DefaultMongoVolume)
	setString(&sp.EndpointMode, EndpointModeDNSRR)
	setString(&sp.Visualizer.Image, DefaultVisualizerImage)
}

// DefaultStack is a Stack named name with every default set.
func DefaultStack(name string) *Stack {
	s := &Stack{Metadata: ObjectMeta{Name: name}}
	SetStackDefaults(s)
	return s
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}
