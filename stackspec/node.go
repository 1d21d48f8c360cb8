package stackspec

import "github.com/docker/docker/api/types/swarm"

// Node is what stackspec needs to know about one swarm node.
type Node struct {
	ID           string
	Hostname     string
	Role         string // "manager" or "worker"
	Availability string // "active", "pause" or "drain"
	State        string // "ready", "down", "disconnected", "unknown"
	NanoCPUs     int64
	Labels       map[string]string
}

// Roles, availabilities and states of nodes as Docker names them.
const (
	RoleManager        = string(swarm.NodeRoleManager)
	RoleWorker         = string(swarm.NodeRoleWorker)
	AvailabilityActive = string(swarm.NodeAvailabilityActive)
	StateReady         = string(swarm.NodeStateReady)
)

// NodeFromSwarm converts the Docker API's node.
func NodeFromSwarm(n swarm.Node) Node {
	return Node{
		ID:           n.ID,
		Hostname:     n.Description.Hostname,
		Role:         string(n.Spec.Role),
		Availability: string(n.Spec.Availability),
		State:        string(n.Status.State),
		NanoCPUs:     n.Description.Resources.NanoCPUs,
		Labels:       n.Spec.Labels,
	}
}
