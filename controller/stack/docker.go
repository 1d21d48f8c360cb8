package stack

import (
	"context"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// Docker is the part of the Docker API client the reconciler uses;
// *client.Client satisfies it.
type Docker interface {
	NodeList(ctx context.Context, opts swarm.NodeListOptions) ([]swarm.Node, error)
	ServiceList(ctx context.Context, opts swarm.ServiceListOptions) ([]swarm.Service, error)
	ServiceInspectWithRaw(ctx context.Context, id string, opts swarm.ServiceInspectOptions) (swarm.Service, []byte, error)
	ServiceCreate(ctx context.Context, spec swarm.ServiceSpec, opts swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error)
	ServiceUpdate(ctx context.Context, id string, version swarm.Version, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error)
	ServiceRemove(ctx context.Context, id string) error
	NetworkList(ctx context.Context, opts network.ListOptions) ([]network.Summary, error)
	NetworkCreate(ctx context.Context, name string, opts network.CreateOptions) (network.CreateResponse, error)
	NetworkRemove(ctx context.Context, id string) error
	TaskList(ctx context.Context, opts swarm.TaskListOptions) ([]swarm.Task, error)
	SecretList(ctx context.Context, opts swarm.SecretListOptions) ([]swarm.Secret, error)
}

// EventSource streams Docker events; *client.Client satisfies it.
type EventSource interface {
	Events(ctx context.Context, opts events.ListOptions) (<-chan events.Message, <-chan error)
}

// HostPublisher hands the current distcc host list ("ip:port" entries) to
// the builder.
type HostPublisher interface {
	PublishDistccHosts(ctx context.Context, hosts []string) error
}

// SlotPublisher hands each node's runner slot count (node ID -> slots,
// stackspec.RunnerSlots) to the runners.
type SlotPublisher interface {
	PublishRunnerSlots(ctx context.Context, slots map[string]int) error
}
