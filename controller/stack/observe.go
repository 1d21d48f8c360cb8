package stack

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/simswarm/simswarm/stackspec"
)

// Observation is the swarm as a dashboard shows it: every node with its
// tasks, every service with desired and running replicas, and what this
// reconciler did lately. Only reads make it (three Docker list calls).
type Observation struct {
	Stack    string            `json:"stack"`
	Nodes    []ObservedNode    `json:"nodes"`
	Services []ObservedService `json:"services"`
	Tasks    []ObservedTask    `json:"tasks"`
	Actions  []Action          `json:"actions"`
	LastPass Pass              `json:"lastPass"`
}

// ObservedNode is one swarm node.
type ObservedNode struct {
	ID           string `json:"id"`
	Hostname     string `json:"hostname"`
	Role         string `json:"role"`         // manager or worker
	Availability string `json:"availability"` // active, pause, drain
	State        string `json:"state"`        // ready, down, ...
	Leader       bool   `json:"leader,omitempty"`
	Addr         string `json:"addr,omitempty"`
	NanoCPUs     int64  `json:"nanoCPUs"`
	MemoryBytes  int64  `json:"memoryBytes"`
}

// ObservedService is one swarm service; Stack tells whether it is one of
// this stack's (carries its label).
type ObservedService struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Component string `json:"component,omitempty"`
	Stack     bool   `json:"stack"`
	Mode      string `json:"mode"` // replicated or global
	Image     string `json:"image"`
	// Desired is the replica count (replicated) or the number of tasks the
	// orchestrator wants running (global).
	Desired int `json:"desired"`
	Running int `json:"running"`
}

// ObservedTask is one task the orchestrator wants running (desired state
// running), placed on NodeID.
type ObservedTask struct {
	ID           string    `json:"id"`
	Service      string    `json:"service"` // service name
	NodeID       string    `json:"nodeId"`
	Slot         int       `json:"slot,omitempty"`
	State        string    `json:"state"`
	DesiredState string    `json:"desiredState"`
	Message      string    `json:"message,omitempty"`
	Err          string    `json:"error,omitempty"`
	Updated      time.Time `json:"updated"`
}

// Observe lists the swarm's nodes, services and live tasks. It works on
// every controller instance (leading or not); the actions are those of
// this instance's passes.
func (r *Reconciler) Observe(ctx context.Context) (*Observation, error) {
	nodes, err := r.docker.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	services, err := r.docker.ServiceList(ctx, swarm.ServiceListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	tasks, err := r.docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("desired-state", "running"))})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	o := observe(r.stack.Metadata.Name, nodes, services, tasks)
	o.Actions = r.RecentActions()
	o.LastPass = r.LastPass()
	return o, nil
}

// observe turns Docker's objects into an Observation. Pure.
func observe(stackName string, nodes []swarm.Node, services []swarm.Service, tasks []swarm.Task) *Observation {
	o := &Observation{Stack: stackName, Nodes: []ObservedNode{}, Services: []ObservedService{}, Tasks: []ObservedTask{}}
	for _, n := range nodes {
		on := ObservedNode{ID: n.ID, Hostname: n.Description.Hostname, Role: string(n.Spec.Role),
			Availability: string(n.Spec.Availability), State: string(n.Status.State), Addr: n.Status.Addr,
			NanoCPUs: n.Description.Resources.NanoCPUs, MemoryBytes: n.Description.Resources.MemoryBytes}
		if n.ManagerStatus != nil {
			on.Leader = n.ManagerStatus.Leader
		}
		o.Nodes = append(o.Nodes, on)
	}
	sort.Slice(o.Nodes, func(i, j int) bool {
		a, b := o.Nodes[i], o.Nodes[j]
		if a.Role != b.Role {
			return a.Role == string(swarm.NodeRoleManager)
		}
		return a.Hostname < b.Hostname
	})
	names := map[string]string{}
	running := map[string]int{}
	wanted := map[string]int{}
	for _, t := range tasks {
		wanted[t.ServiceID]++
		if t.Status.State == swarm.TaskStateRunning {
			running[t.ServiceID]++
		}
	}
	for _, s := range services {
		names[s.ID] = s.Spec.Name
		svc := ObservedService{ID: s.ID, Name: s.Spec.Name, Component: s.Spec.Labels[stackspec.LabelComponent],
			Stack: s.Spec.Labels[stackspec.LabelStack] == stackName, Running: running[s.ID]}
		if c := s.Spec.TaskTemplate.ContainerSpec; c != nil {
			svc.Image = c.Image
		}
		switch {
		case s.Spec.Mode.Global != nil:
			svc.Mode, svc.Desired = "global", wanted[s.ID]
		case s.Spec.Mode.Replicated != nil && s.Spec.Mode.Replicated.Replicas != nil:
			svc.Mode, svc.Desired = "replicated", int(*s.Spec.Mode.Replicated.Replicas)
		default:
			svc.Mode, svc.Desired = "other", wanted[s.ID]
		}
		o.Services = append(o.Services, svc)
	}
	sort.Slice(o.Services, func(i, j int) bool { return o.Services[i].Name < o.Services[j].Name })
	for _, t := range tasks {
		ot := ObservedTask{ID: t.ID, Service: names[t.ServiceID], NodeID: t.NodeID, Slot: t.Slot,
			State: string(t.Status.State), DesiredState: string(t.DesiredState), Message: t.Status.Message,
			Err: t.Status.Err, Updated: t.UpdatedAt}
		if ot.Service == "" {
			ot.Service = t.ServiceID
		}
		o.Tasks = append(o.Tasks, ot)
	}
	sort.Slice(o.Tasks, func(i, j int) bool {
		a, b := o.Tasks[i], o.Tasks[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Slot < b.Slot
	})
	return o
}
