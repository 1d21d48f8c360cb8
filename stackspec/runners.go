package stackspec

import (
	"math"
	"sort"

	"github.com/simswarm/simswarm/api"
)

const nanoPerCPU = 1e9

// cpuNanos converts a CPU count to Docker's NanoCPUs.
func cpuNanos(cpus float64) int64 { return int64(math.Round(cpus * nanoPerCPU)) }

// NodeIDEnv carries the node's swarm ID into the runner (Swarm expands the
// template {{.Node.ID}} per task); the runner looks its slot count up under
// that ID in what the stack reconciler publishes.
const NodeIDEnv = "SIMSWARM_NODE_ID"

// RunnerSlots is how many simulation slots the runner of each node may
// use, by node ID: floor((its CPUs - the manager reserve if it is a
// manager) / the runner reservation), at most api.MaxNodeSlots, for a
// ready, active node; 0 for one
// that cannot take tasks now (drained, paused, down), so that a runner
// still on it takes no new ones. Nodes the runner's placement excludes
// (the exclude label, or managers when they run no runners) have no entry.
// With Runner.MaxReplicas set, the total is capped by granting nodes in
// node ID order (deterministic), so some nodes get fewer or none.
// A node's count changes only with its own CPUs, state or the stack's
// settings: nodes joining or leaving change no other node's count.
func RunnerSlots(s *api.Stack, nodes []Node) map[string]int {
	per := cpuNanos(*s.Spec.Runner.CPUReservation)
	reserve := cpuNanos(*s.Spec.Manager.CPUReserve)
	slots := map[string]int{}
	var ids []string
	for _, n := range nodes {
		if !admitsRunner(s, n) {
			continue
		}
		ids = append(ids, n.ID)
		if n.State != StateReady || n.Availability != AvailabilityActive || per <= 0 {
			slots[n.ID] = 0
			continue
		}
		avail := n.NanoCPUs
		if n.Role == RoleManager {
			avail -= reserve
		}
		slots[n.ID] = int(min(max(avail, 0)/per, api.MaxNodeSlots))
	}
	if m := int(s.Spec.Runner.MaxReplicas); m > 0 {
		sort.Strings(ids)
		left := m
		for _, id := range ids {
			slots[id] = min(slots[id], left)
			left -= slots[id]
		}
	}
	return slots
}

// TotalRunnerSlots is the sum of RunnerSlots: the simulations the stack
// runs at once.
func TotalRunnerSlots(slots map[string]int) int {
	n := 0
	for _, v := range slots {
		n += v
	}
	return n
}

// admitsRunner says whether the runner service's placement admits n.
func admitsRunner(s *api.Stack, n Node) bool {
	if n.Role == RoleManager && !*s.Spec.Manager.RunRunners {
		return false
	}
	return n.Labels[s.Spec.Runner.ExcludeLabel] != "false"
}
