package stack

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/stackspec"
)

func TestMeetsConstraints(t *testing.T) {
	n := swarm.Node{ID: "n1"}
	n.Description.Hostname = "h2"
	n.Spec.Role = swarm.NodeRoleWorker
	n.Spec.Labels = map[string]string{"io.simswarm.runner": "true"}
	for _, c := range []struct {
		constraints []string
		want        bool
	}{
		{nil, true},
		{[]string{"node.role==worker"}, true},
		{[]string{"node.role == WORKER"}, true},
		{[]string{"node.role==manager"}, false},
		{[]string{"node.role!=manager", "node.hostname==h2"}, true},
		{[]string{"node.labels.io.simswarm.runner!=false"}, true},
		{[]string{"node.labels.absent!=false"}, true}, // swarm: a missing label is "not equal"
		{[]string{"node.labels.absent==x"}, false},
		{[]string{"node.id==n1"}, true},
		{[]string{"node.platform.os==linux"}, false},
		{[]string{"node.ip==10.0.0.1"}, false}, // not understood: no guess
		{[]string{"garbage"}, false},
	} {
		if got := meetsConstraints(c.constraints, n); got != c.want {
			t.Errorf("meetsConstraints(%q) = %v, want %v", c.constraints, got, c.want)
		}
	}
}

// TestStuckTasksNeedRoom: a waiting task counts as stuck only while a
// ready, active node that meets its constraints has its reservation free.
func TestStuckTasksNeedRoom(t *testing.T) {
	cpu := int64(1e9)
	node := func(id string, state swarm.NodeState, avail swarm.NodeAvailability, cpus int64) swarm.Node {
		n := swarm.Node{ID: id}
		n.Status.State, n.Spec.Availability, n.Spec.Role = state, avail, swarm.NodeRoleWorker
		n.Description.Resources.NanoCPUs = cpus * cpu
		return n
	}
	reserve := &swarm.ResourceRequirements{Reservations: &swarm.Resources{NanoCPUs: cpu}}
	svc := swarm.Service{ID: "s1"}
	svc.Spec.Labels = map[string]string{stackspec.LabelStack: "simswarm"}
	one := uint64(3)
	svc.Spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &one}
	svc.Spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.role==worker"}}
	task := func(id, node string, state swarm.TaskState) swarm.Task {
		return swarm.Task{ID: id, ServiceID: "s1", NodeID: node, DesiredState: swarm.TaskStateRunning,
			Status: swarm.TaskStatus{State: state}, Spec: swarm.TaskSpec{Resources: reserve}}
	}
	tasks := []swarm.Task{task("a", "n1", swarm.TaskStateRunning), task("b", "", swarm.TaskStatePending)}
	for _, c := range []struct {
		name  string
		nodes []swarm.Node
		want  int
	}{
		{"full node", []swarm.Node{node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive, 1)}, 0},
		{"room on a node", []swarm.Node{node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive, 2)}, 1},
		{"room on a down node", []swarm.Node{node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive, 1),
			node("n2", swarm.NodeStateDown, swarm.NodeAvailabilityActive, 4)}, 0},
		{"room on a drained node", []swarm.Node{node("n2", swarm.NodeStateReady, swarm.NodeAvailabilityDrain, 4)}, 0},
		{"room on another node", []swarm.Node{node("n1", swarm.NodeStateReady, swarm.NodeAvailabilityActive, 1),
			node("n2", swarm.NodeStateReady, swarm.NodeAvailabilityActive, 1)}, 1},
	} {
		got := stuckTasks("simswarm", []swarm.Service{svc}, tasks, c.nodes)
		if len(got) != c.want {
			t.Errorf("%s: %d stuck tasks, want %d", c.name, len(got), c.want)
		}
	}
	// Not the stack's: never counted.
	other := svc
	other.Spec.Labels = nil
	if got := stuckTasks("simswarm", []swarm.Service{other}, tasks,
		[]swarm.Node{node("n2", swarm.NodeStateReady, swarm.NodeAvailabilityActive, 4)}); len(got) != 0 {
		t.Errorf("a service without the stack's label had %d stuck tasks", len(got))
	}
}
