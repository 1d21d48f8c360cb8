package stack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"go.uber.org/zap/zaptest"
)

// TestTasksSwarmStoppedSchedulingAreNudged reproduces the swarm
// scheduler bug behind replicas of stack services (the builder here) that
// stay Pending after a lost node returns (moby/moby#36699, #53722): a
// task waiting for a node, whose
// service's revision advances (a service update that leaves the tasks
// alone), is dropped from the scheduler's retry queue at its next
// scheduling pass without a node, and stays Pending for ever once the node
// can take it again. The reconciler must get such tasks running, without
// restarting anything and keeping the ForceUpdate counter someone set.
func TestTasksSwarmStoppedSchedulingAreNudged(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testStack(t, d)
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "simswarm_api-token"}, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	rec, err := New(Config{Stack: s, Docker: d.Client, Events: d.Client, Logger: zaptest.NewLogger(t),
		Resync: time.Hour, StuckGrace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	// The builder: a replicated service of the stack (the svcName is
	// global, its tasks bound to their nodes).
	svcName := stackspec.ObjectName(s, stackspec.Builder)
	// states counts the svcName tasks meant to run: running, and waiting
	// for a node (Pending, unassigned).
	states := func() (running, waiting int, state string) {
		tasks, err := d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
			filters.Arg("service", svcName), filters.Arg("desired-state", "running"))})
		if err != nil {
			return 0, 0, err.Error()
		}
		var all []string
		for _, task := range tasks {
			all = append(all, fmt.Sprintf("%s:%s@%q(%s)", task.ID[:6], task.Status.State, task.NodeID, task.Status.Err))
			switch {
			case task.Status.State == swarm.TaskStateRunning:
				running++
			case task.Status.State == swarm.TaskStatePending && task.NodeID == "":
				waiting++
			}
		}
		return running, waiting, strings.Join(all, " ")
	}
	service := func() swarm.Service {
		svc, _, err := d.Client.ServiceInspectWithRaw(ctx, svcName, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	settled := func(what string) {
		eventually(t, 90*time.Second, what, func() (bool, string) {
			r, w, st := states()
			svc := service()
			return r == 1 && w == 0 && (svc.UpdateStatus == nil || svc.UpdateStatus.State != swarm.UpdateStateUpdating), st
		})
	}
	settled("the builder running")
	d.CLI(t, "service", "update", "--detach", "--force", svcName)
	eventually(t, 90*time.Second, "--force rollout done", func() (bool, string) {
		svc := service()
		return svc.UpdateStatus != nil && svc.UpdateStatus.State == swarm.UpdateStateCompleted, fmt.Sprint(svc.UpdateStatus)
	})
	settled("the builder running after --force")
	force := service().Spec.TaskTemplate.ForceUpdate

	// The bug: the task waits for a node (the only one drained), the
	// service's revision advances, the scheduler makes a pass while no
	// node can take them (a node update), the node comes back.
	nodeUpdate(t, d, "--availability", "drain", d.NodeID)
	eventually(t, 60*time.Second, "the builder task waiting for a node", func() (bool, string) {
		r, w, st := states()
		return r == 0 && w == 1, st
	})
	d.CLI(t, "service", "update", "--detach", "--label-add", "revision=advanced", svcName)
	time.Sleep(time.Second)
	nodeUpdate(t, d, "--label-add", "poke=1", d.NodeID)
	time.Sleep(time.Second)
	nodeUpdate(t, d, "--availability", "active", d.NodeID)
	time.Sleep(10 * time.Second)
	if r, w, st := states(); r != 0 || w != 1 {
		t.Fatalf("swarm scheduled the waiting task by itself (moby/moby#53722 did not reproduce: fixed in this engine? then this workaround can go): %s", st)
	}

	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	defer func() { cancel(); <-done }()
	took := eventually(t, 60*time.Second, "the stuck builder task replaced by a running one", func() (bool, string) {
		r, w, st := states()
		return r == 1 && w == 0 && replicas(service()) == 1, st
	})
	t.Logf("stuck builder running again %v after the reconciler started", took)
	if got := service().Spec.TaskTemplate.ForceUpdate; got != force {
		t.Errorf("the nudge changed ForceUpdate: %d, want %d", got, force)
	}
	nudged := false
	for _, a := range rec.RecentActions() {
		if a.What == "nudged service/"+svcName && a.Err == "" {
			nudged = true
			t.Logf("action: %s: %s", a.What, a.Why)
		}
	}
	if !nudged {
		t.Errorf("no nudge in the action log: %+v", rec.RecentActions())
	}
}
