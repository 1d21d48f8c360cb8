package stackspec

import (
	"math"

	"github.com/simswarm/simswarm/api"
)

const nanoPerCPU = 1e9

// cpuNanos converts a CPU count to Docker's NanoCPUs.
func cpuNanos(cpus float64) int64 { return int64(math.Round(cpus * nanoPerCPU)) }

// RunnerReplicas is how many runner replicas the nodes can hold: for every
// ready, active node that may run runners, floor((its CPUs - the manager
// reserve if it is a manager) / the runner reservation). Summing per node
// (not over the pooled CPUs) matches the scheduler's bin packing, so every
// replica finds a place.
func RunnerReplicas(s *api.Stack, nodes []Node) uint64 {
	per := cpuNanos(*s.Spec.Runner.CPUReservation)
	if per <= 0 {
		return 0
	}
	reserve := cpuNanos(*s.Spec.Manager.CPUReserve)
	var total uint64
	for _, n := range nodes {
		if !runsRunners(s, n) {
			continue
		}
		avail := n.NanoCPUs
		if n.Role == RoleManager {
			avail -= reserve
		}
		if avail >= per {
			total += uint64(avail / per)
		}
	}
	if m := s.Spec.Runner.MaxReplicas; m > 0 && total > uint64(m) {
		total = uint64(m)
	}
	return total
}

// runsRunners says whether the runner service's placement admits n and n
// can take tasks now.
func runsRunners(s *api.Stack, n Node) bool {
	if n.State != StateReady || n.Availability != AvailabilityActive {
		return false
	}
	if n.Role == RoleManager && !*s.Spec.Manager.RunRunners {
		return false
	}
	return n.Labels[s.Spec.Runner.ExcludeLabel] != "false"
}
