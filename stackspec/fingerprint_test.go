package stackspec

import (
	"maps"
	"testing"

	"github.com/simswarm/simswarm/api"
)

// The daemon stores what we sent with network IDs, image digests and extra
// defaults; the fingerprint must still match, and must change when a field
// we own is edited by hand.
func TestFingerprintIgnoresDaemonRewritesButSeesEdits(t *testing.T) {
	s := api.DefaultStack("simswarm")
	d, err := Build(s, []Node{node("m1", RoleManager, 4)})
	if err != nil {
		t.Fatal(err)
	}
	svc := find(t, d, Builder)
	observed := svc.Spec
	observed.TaskTemplate.ContainerSpec = ptrCopy(svc.Spec.TaskTemplate.ContainerSpec)
	observed.TaskTemplate.ContainerSpec.Image += "@sha256:0123456789abcdef"
	observed.TaskTemplate.ContainerSpec.Isolation = "default"
	observed.TaskTemplate.Networks = nil
	ids := map[string]string{}
	for _, n := range svc.Spec.TaskTemplate.Networks {
		id := "id-" + n.Target
		ids[id] = n.Target
		n.Target = id
		observed.TaskTemplate.Networks = append(observed.TaskTemplate.Networks, n)
	}
	if got := Fingerprint(observed, ids); got != svc.Hash {
		t.Fatalf("fingerprint of daemon-rewritten spec %s != intended %s", got, svc.Hash)
	}
	observed.TaskTemplate.ContainerSpec.Env = append(append([]string{}, observed.TaskTemplate.ContainerSpec.Env...), "TAMPERED=1")
	if Fingerprint(observed, ids) == svc.Hash {
		t.Fatal("an added env var did not change the fingerprint")
	}
}

// TestRunnerSlotsFollowNodesNotTheSpec: a node joining changes the slots
// published per node, never the runner service (global: Swarm places one
// runner on the new node by itself), and a node's CPU grant (the manager
// reserve) changes that node's count only.
func TestRunnerSlotsFollowNodesNotTheSpec(t *testing.T) {
	s := api.DefaultStack("simswarm")
	nodes := []Node{node("m1", RoleManager, 2)}
	one := RunnerSlots(s, nodes)
	nodes = append(nodes, node("w1", RoleWorker, 4))
	more := RunnerSlots(s, nodes)
	if !maps.Equal(one, map[string]int{"m1": 1}) || !maps.Equal(more, map[string]int{"m1": 1, "w1": 4}) {
		t.Fatalf("slots %v then %v, want m1:1 then m1:1 w1:4", one, more)
	}
	none := 0.0
	s.Spec.Manager.CPUReserve = &none
	if got := RunnerSlots(s, nodes); !maps.Equal(got, map[string]int{"m1": 2, "w1": 4}) {
		t.Fatalf("slots without a manager reserve %v, want m1:2 w1:4", got)
	}
	// A reservation that asks for more slots than a node publishes gets
	// api.MaxNodeSlots: what runners read, never a count they refuse.
	tiny := 0.0005
	s.Spec.Runner.CPUReservation = &tiny
	if got := RunnerSlots(s, nodes); !maps.Equal(got, map[string]int{"m1": 4000, "w1": api.MaxNodeSlots}) {
		t.Fatalf("slots of 0.0005 CPU each %v, want m1:4000 w1:%d", got, api.MaxNodeSlots)
	}
	d1, _ := Build(s, nodes[:1])
	d2, _ := Build(s, nodes)
	if find(t, d1, Runner).Hash != find(t, d2, Runner).Hash {
		t.Error("runner hash changed with the node set")
	}
}

func ptrCopy[T any](p *T) *T { c := *p; return &c }
