package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/stackspec"
	"go.uber.org/zap"
)

// Swarm's scheduler can lose a task: a task that waits for a node
// (Pending, no suitable node) and belongs to an older revision of its
// service is not put back in the scheduler's retry queue, although it is
// still desired Running (moby/moby#36699, #53722; fix proposed in
// moby/swarmkit#3297). Any service update makes the waiting tasks "older"
// — simswarm's own replica changes while a node is away do — so after a
// lost node returns its runner tasks can stay Pending for ever while the
// node has room. Nothing in swarm retries them; a new task of the current
// revision is scheduled normally.
//
// The reconciler therefore looks, on every full pass, for tasks of its
// replicated services that are Pending, unassigned and desired Running
// while some ready, active node meets the service's constraints and has
// the CPU and memory it reserves free. A task seen like that for
// StuckGrace is nudged: the service's replica count is lowered by the
// number of such tasks — swarm removes unassigned tasks first when
// scaling down, so running tasks are not touched — and the next pass
// raises it back to the desired count, which creates fresh tasks. The
// update writes the observed spec with only the replica count changed, so
// it keeps everything simswarm does not own (ForceUpdate, a pinned
// digest), and it is skipped for a service that this pass updated or that
// is in a rolling update.

// DefaultStuckGrace is how long a task must be seen waiting with room for
// it before its service is nudged: far longer than the scheduler takes to
// place a task that it still retries.
const DefaultStuckGrace = 30 * time.Second

// stuckTask is a task waiting for a node although one has room for it.
type stuckTask struct {
	service swarm.Service
	task    swarm.Task
}

// nudgeStuck finds tasks of the stack's replicated services that swarm no
// longer tries to place, and nudges their services. Tasks still within
// their grace set res.StuckWatched (Run then looks again when it ends).
func (r *Reconciler) nudgeStuck(ctx context.Context, nodes []swarm.Node, stackFilter filters.Args, res *Result) error {
	services, err := r.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter})
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	tasks, err := r.docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("desired-state", "running"))})
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	now := r.now()
	seen := map[string]time.Time{}
	ripe := map[string][]stuckTask{}
	for _, st := range stuckTasks(r.stack.Metadata.Name, services, tasks, nodes) {
		first, ok := r.stuckSince[st.task.ID]
		if !ok {
			first = now
		}
		seen[st.task.ID] = first
		if now.Sub(first) < r.stuckGrace {
			res.StuckWatched = true
			continue
		}
		ripe[st.service.ID] = append(ripe[st.service.ID], st)
	}
	r.stuckSince = seen
	var errs []error
	for _, sts := range ripe {
		svc := sts[0].service
		if updated(res, svc.Spec.Name) || svc.UpdateStatus != nil && svc.UpdateStatus.State == swarm.UpdateStateUpdating {
			continue
		}
		if err := r.nudge(ctx, svc, sts); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, st := range sts {
			delete(r.stuckSince, st.task.ID)
		}
		res.Updated = append(res.Updated, "service/"+svc.Spec.Name)
		res.Nudged = true
	}
	return errors.Join(errs...)
}

// nudge lowers the service's replica count by the number of its stuck
// tasks; the next pass restores it.
func (r *Reconciler) nudge(ctx context.Context, svc swarm.Service, sts []stuckTask) error {
	have := specReplicas(svc.Spec)
	k := int64(len(sts))
	if have < k {
		k = have
	}
	if k <= 0 {
		return nil
	}
	n := uint64(have - k)
	spec := svc.Spec
	spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
	ids := make([]string, 0, len(sts))
	for _, st := range sts {
		ids = append(ids, st.task.ID)
	}
	why := fmt.Sprintf("%d tasks waited %v+ for a node while a node had room for them (%s): swarm no longer retries them "+
		"(moby/moby#53722); replicas %d -> %d, restored by the next pass with fresh tasks", k, r.stuckGrace, strings.Join(ids, " "), have, n)
	what := "nudged service/" + svc.Spec.Name
	if _, err := r.docker.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		err = fmt.Errorf("nudge service %s: %w", svc.Spec.Name, err)
		r.record(what, why, err)
		return err
	}
	r.record(what, why, nil)
	r.log.Warn("nudged service with tasks swarm stopped scheduling", zap.String("service", svc.Spec.Name),
		zap.Strings("tasks", ids), zap.Int64("replicas", have), zap.Uint64("nudgedTo", n))
	return nil
}

func updated(res *Result, name string) bool {
	for _, u := range res.Updated {
		if u == "service/"+name {
			return true
		}
	}
	return false
}

// stuckTasks are the tasks of the stack's replicated services that wait
// for a node (Pending, unassigned, desired Running) while a ready, active
// node meets their service's constraints and has the resources it
// reserves free.
func stuckTasks(stackName string, services []swarm.Service, tasks []swarm.Task, nodes []swarm.Node) []stuckTask {
	byID := map[string]swarm.Service{}
	for _, s := range services {
		if s.Spec.Labels[stackspec.LabelStack] == stackName && s.Spec.Mode.Replicated != nil {
			byID[s.ID] = s
		}
	}
	used := map[string]swarm.Resources{} // node -> reserved by its tasks
	perNode := map[[2]string]uint64{}    // (service, node) -> tasks
	var waiting []swarm.Task
	for _, t := range tasks {
		if t.NodeID == "" {
			if t.Status.State == swarm.TaskStatePending && t.DesiredState == swarm.TaskStateRunning {
				if _, ok := byID[t.ServiceID]; ok {
					waiting = append(waiting, t)
				}
			}
			continue
		}
		if rr := t.Spec.Resources; rr != nil && rr.Reservations != nil {
			u := used[t.NodeID]
			u.NanoCPUs += rr.Reservations.NanoCPUs
			u.MemoryBytes += rr.Reservations.MemoryBytes
			used[t.NodeID] = u
		}
		perNode[[2]string{t.ServiceID, t.NodeID}]++
	}
	var out []stuckTask
	for _, t := range waiting {
		svc := byID[t.ServiceID]
		if roomFor(svc, t.Spec, nodes, used, perNode) {
			out = append(out, stuckTask{service: svc, task: t})
		}
	}
	return out
}

// roomFor says whether a ready, active node meets the task's constraints
// and has its reservations free. Constraints it cannot evaluate count as
// unmet: no nudge on a guess.
func roomFor(svc swarm.Service, spec swarm.TaskSpec, nodes []swarm.Node, used map[string]swarm.Resources, perNode map[[2]string]uint64) bool {
	var want swarm.Resources
	if spec.Resources != nil && spec.Resources.Reservations != nil {
		want = *spec.Resources.Reservations
	}
	var constraints []string
	var maxPerNode uint64
	if spec.Placement != nil {
		constraints, maxPerNode = spec.Placement.Constraints, spec.Placement.MaxReplicas
	}
	for _, n := range nodes {
		if n.Status.State != swarm.NodeStateReady || n.Spec.Availability != swarm.NodeAvailabilityActive {
			continue
		}
		if !meetsConstraints(constraints, n) {
			continue
		}
		if maxPerNode > 0 && perNode[[2]string{svc.ID, n.ID}] >= maxPerNode {
			continue
		}
		have, u := n.Description.Resources, used[n.ID]
		if have.NanoCPUs-u.NanoCPUs >= want.NanoCPUs && have.MemoryBytes-u.MemoryBytes >= want.MemoryBytes {
			return true
		}
	}
	return false
}

// meetsConstraints evaluates swarm placement constraints ("key==value",
// "key!=value"; values compare case-insensitively, as swarm does) on n.
// An expression it does not know is false.
func meetsConstraints(constraints []string, n swarm.Node) bool {
	for _, c := range constraints {
		key, value, eq := "", "", true
		if k, v, ok := strings.Cut(c, "=="); ok {
			key, value = k, v
		} else if k, v, ok := strings.Cut(c, "!="); ok {
			key, value, eq = k, v, false
		} else {
			return false
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		var have string
		var present bool
		switch {
		case key == "node.id":
			have, present = n.ID, true
		case key == "node.hostname":
			have, present = n.Description.Hostname, true
		case key == "node.role":
			have, present = string(n.Spec.Role), true
		case key == "node.platform.os":
			have, present = n.Description.Platform.OS, true
		case key == "node.platform.arch":
			have, present = n.Description.Platform.Architecture, true
		case strings.HasPrefix(key, "node.labels."):
			have, present = n.Spec.Labels[strings.TrimPrefix(key, "node.labels.")]
		case strings.HasPrefix(key, "engine.labels."):
			have, present = n.Description.Engine.Labels[strings.TrimPrefix(key, "engine.labels.")]
		default:
			return false
		}
		if match := present && strings.EqualFold(have, value); match != eq {
			return false
		}
	}
	return true
}
