package stack

import (
	"context"
	"sync"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// countingDocker passes every call through and records the write calls.
type countingDocker struct {
	Docker
	mu     sync.Mutex
	writes []string
}

func (c *countingDocker) record(call string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, call)
}

// Writes returns the write calls so far and forgets them.
func (c *countingDocker) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.writes
	c.writes = nil
	return w
}

func (c *countingDocker) ServiceCreate(ctx context.Context, spec swarm.ServiceSpec, opts swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	c.record("ServiceCreate " + spec.Name)
	return c.Docker.ServiceCreate(ctx, spec, opts)
}

func (c *countingDocker) ServiceUpdate(ctx context.Context, id string, v swarm.Version, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	c.record("ServiceUpdate " + spec.Name)
	return c.Docker.ServiceUpdate(ctx, id, v, spec, opts)
}

func (c *countingDocker) ServiceRemove(ctx context.Context, id string) error {
	c.record("ServiceRemove " + id)
	return c.Docker.ServiceRemove(ctx, id)
}

func (c *countingDocker) NetworkCreate(ctx context.Context, name string, opts network.CreateOptions) (network.CreateResponse, error) {
	c.record("NetworkCreate " + name)
	return c.Docker.NetworkCreate(ctx, name, opts)
}

func (c *countingDocker) NetworkRemove(ctx context.Context, id string) error {
	c.record("NetworkRemove " + id)
	return c.Docker.NetworkRemove(ctx, id)
}

// memHosts records published distcc host lists.
type memHosts struct {
	mu   sync.Mutex
	last []string
	n    int
}

func (m *memHosts) PublishDistccHosts(_ context.Context, hosts []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last, m.n = append([]string(nil), hosts...), m.n+1
	return nil
}
