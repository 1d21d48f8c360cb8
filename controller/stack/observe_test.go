package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/stackspec"
)

// These tests need no Docker engine: they check the pure parts of what the
// dashboard reads (the action log, the observation's shape, the reasons).

func TestActionLogKeepsTheNewestHundredNewestFirst(t *testing.T) {
	var l actionLog
	if got := l.recent(); len(got) != 0 {
		t.Fatalf("empty log: %v", got)
	}
	for i := 0; i < 250; i++ {
		l.add(Action{What: fmt.Sprint(i)})
	}
	got := l.recent()
	if len(got) != maxActions {
		t.Fatalf("%d actions kept, want %d", len(got), maxActions)
	}
	for i, a := range got {
		if want := fmt.Sprint(249 - i); a.What != want {
			t.Fatalf("action %d is %q, want %q (newest first)", i, a.What, want)
		}
	}
}

func TestRecordStampsActionsWithTheInjectedClock(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := api.DefaultStack("simswarm")
	api.SetStackDefaults(s)
	r, err := New(Config{Stack: s, Docker: &fakeDocker{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r.record("created service/simswarm_runner", whyMissing, nil)
	r.record("update service/simswarm_redis", "x", errors.New("boom"))
	got := r.RecentActions()
	if len(got) != 2 || got[0].Err != "boom" || got[1].Err != "" || !got[1].Time.Equal(now) || got[1].Why != whyMissing {
		t.Fatalf("actions = %+v", got)
	}
}

func replicatedSpec(n uint64, hash string) swarm.ServiceSpec {
	return swarm.ServiceSpec{Annotations: swarm.Annotations{Labels: map[string]string{stackspec.LabelSpecHash: hash}},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}}
}

func TestUpdateReasonNamesReplicasDriftAndSpecChanges(t *testing.T) {
	want := stackspec.Service{Component: stackspec.Builder, Hash: "h2", Spec: replicatedSpec(8, "h2")}
	if got := updateReason(replicatedSpec(4, "h1"), want); !strings.Contains(got, "replicas 4 -> 8") {
		t.Errorf("replica change: %q", got)
	}
	if got := updateReason(replicatedSpec(8, "h2"), want); !strings.Contains(got, "outside simswarm") {
		t.Errorf("drift with the right label: %q", got)
	}
	if got := updateReason(replicatedSpec(8, "h1"), want); !strings.Contains(got, "desired spec changed") {
		t.Errorf("new desired spec: %q", got)
	}
}

func TestObserveCountsRunningTasksPerServiceAndSortsManagersFirst(t *testing.T) {
	three := uint64(3)
	d := &fakeDocker{
		nodes: []swarm.Node{
			{ID: "w1", Spec: swarm.NodeSpec{Role: swarm.NodeRoleWorker, Availability: swarm.NodeAvailabilityDrain},
				Description: swarm.NodeDescription{Hostname: "a-worker", Resources: swarm.Resources{NanoCPUs: 4e9, MemoryBytes: 8 << 30}},
				Status:      swarm.NodeStatus{State: swarm.NodeStateReady}},
			{ID: "m1", Spec: swarm.NodeSpec{Role: swarm.NodeRoleManager, Availability: swarm.NodeAvailabilityActive},
				Description:   swarm.NodeDescription{Hostname: "z-manager", Resources: swarm.Resources{NanoCPUs: 2e9}},
				Status:        swarm.NodeStatus{State: swarm.NodeStateReady, Addr: "10.0.0.1"},
				ManagerStatus: &swarm.ManagerStatus{Leader: true}},
		},
		services: []swarm.Service{
			{ID: "s-run", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "simswarm_runner",
				Labels: map[string]string{stackspec.LabelStack: "simswarm", stackspec.LabelComponent: "runner"}},
				Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &three}},
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "simswarm/worker:1"}}}},
			{ID: "s-dcc", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "simswarm_distcc",
				Labels: map[string]string{stackspec.LabelStack: "simswarm"}}, Mode: swarm.ServiceMode{Global: &swarm.GlobalService{}}}},
			{ID: "s-other", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "someone-else"}}},
		},
		tasks: []swarm.Task{
			{ID: "t1", ServiceID: "s-run", NodeID: "w1", Slot: 2, Status: swarm.TaskStatus{State: swarm.TaskStateRunning}},
			{ID: "t2", ServiceID: "s-run", NodeID: "w1", Slot: 1, Status: swarm.TaskStatus{State: swarm.TaskStateStarting}},
			{ID: "t3", ServiceID: "s-dcc", NodeID: "m1", Status: swarm.TaskStatus{State: swarm.TaskStateRunning}},
			{ID: "t4", ServiceID: "s-dcc", NodeID: "w1", Status: swarm.TaskStatus{State: swarm.TaskStateRunning}},
		},
	}
	s := api.DefaultStack("simswarm")
	api.SetStackDefaults(s)
	r, err := New(Config{Stack: s, Docker: d})
	if err != nil {
		t.Fatal(err)
	}
	r.record("created service/simswarm_runner", whyMissing, nil)
	o, err := r.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Nodes) != 2 || o.Nodes[0].ID != "m1" || !o.Nodes[0].Leader || o.Nodes[1].Availability != "drain" || o.Nodes[1].NanoCPUs != 4e9 {
		t.Fatalf("nodes = %+v", o.Nodes)
	}
	byName := map[string]ObservedService{}
	for _, s := range o.Services {
		byName[s.Name] = s
	}
	if s := byName["simswarm_runner"]; s.Desired != 3 || s.Running != 1 || !s.Stack || s.Mode != "replicated" || s.Image != "simswarm/worker:1" {
		t.Errorf("runner = %+v", s)
	}
	if s := byName["simswarm_distcc"]; s.Desired != 2 || s.Running != 2 || s.Mode != "global" {
		t.Errorf("distcc = %+v", s)
	}
	if s := byName["someone-else"]; s.Stack {
		t.Errorf("an unlabelled service counted as the stack's: %+v", s)
	}
	if len(o.Tasks) != 4 || o.Tasks[0].Service != "simswarm_distcc" || o.Tasks[2].Slot != 1 {
		t.Errorf("tasks = %+v", o.Tasks)
	}
	if len(o.Actions) != 1 || o.Stack != "simswarm" {
		t.Errorf("actions %+v stack %q", o.Actions, o.Stack)
	}
	d.failTasks = true
	if _, err := r.Observe(context.Background()); err == nil || !strings.Contains(err.Error(), "list tasks") {
		t.Errorf("task listing failure: %v", err)
	}
}

// fakeDocker answers the list calls Observe makes; writes are not
// expected (the embedded nil interface panics on them).
type fakeDocker struct {
	Docker
	nodes     []swarm.Node
	services  []swarm.Service
	tasks     []swarm.Task
	failTasks bool
}

func (f *fakeDocker) NodeList(context.Context, swarm.NodeListOptions) ([]swarm.Node, error) {
	return f.nodes, nil
}

func (f *fakeDocker) ServiceList(context.Context, swarm.ServiceListOptions) ([]swarm.Service, error) {
	return f.services, nil
}

func (f *fakeDocker) TaskList(context.Context, swarm.TaskListOptions) ([]swarm.Task, error) {
	if f.failTasks {
		return nil, errors.New("engine down")
	}
	return f.tasks, nil
}
