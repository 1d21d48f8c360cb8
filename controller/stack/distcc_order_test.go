package stack

import (
	"context"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/stackspec"
)

// TestDistccHostsWorkersFirst: distcc sends each compile to the first host
// of its list with a free slot, so the order decides where a small build
// goes. The hosts on worker nodes come first (TestMultihostSwarm once saw
// all five compiles of its build served by the manager's distccd, whose
// address sorted first), the managers' last, each group sorted.
func TestDistccHostsWorkersFirst(t *testing.T) {
	s := api.DefaultStack("simswarm")
	api.SetStackDefaults(s)
	node := func(id string, role swarm.NodeRole) swarm.Node {
		n := swarm.Node{ID: id}
		n.Spec.Role = role
		return n
	}
	nodes := []swarm.Node{node("m", swarm.NodeRoleManager), node("w1", swarm.NodeRoleWorker), node("w2", swarm.NodeRoleWorker)}
	task := func(nodeID, addr string) swarm.Task {
		t := swarm.Task{NodeID: nodeID, Status: swarm.TaskStatus{State: swarm.TaskStateRunning}}
		na := swarm.NetworkAttachment{Addresses: []string{addr + "/24"}}
		na.Network.Spec.Name = stackspec.ObjectName(s, stackspec.Buildnet)
		t.NetworksAttachments = []swarm.NetworkAttachment{na}
		return t
	}
	f := &fakeDocker{nodes: nodes, tasks: []swarm.Task{
		task("m", "10.0.1.2"), task("w2", "10.0.1.5"), task("w1", "10.0.1.9"), task("m", "10.0.1.3"),
	}}
	rec, err := New(Config{Stack: s, Docker: f})
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := rec.publishDistccHosts(context.Background(), nodes, &res); err != nil {
		t.Fatal(err)
	}
	port := ":3632"
	want := []string{"10.0.1.5" + port, "10.0.1.9" + port, "10.0.1.2" + port, "10.0.1.3" + port}
	if !slices.Equal(res.DistccHosts, want) {
		t.Errorf("distcc hosts %v, want %v", res.DistccHosts, want)
	}
}
