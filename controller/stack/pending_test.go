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

// TestRunnerTasksSwarmStoppedSchedulingAreNudged reproduces the swarm
// scheduler bug behind runner replicas that stay Pending after a lost node
// returns (moby/moby#36699, #53722): a task waiting for a node, whose
// service's revision advances (a service update that leaves the tasks
// alone), is dropped from the scheduler's retry queue at its next
// scheduling pass without a node, and stays Pending for ever once the node
// can take it again. The reconciler must get such tasks running, without
// restarting anything and keeping the ForceUpdate counter someone set.
func TestRunnerTasksSwarmStoppedSchedulingAreNudged(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testStack(t, d)
	half := 0.5
	s.Spec.Runner.CPUReservation = &half // two runners on the node
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
	runner := stackspec.ObjectName(s, stackspec.Runner)
	// states counts the runner tasks meant to run: running, and waiting
	// for a node (Pending, unassigned).
	states := func() (running, waiting int, state string) {
		tasks, err := d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
			filters.Arg("service", runner), filters.Arg("desired-state", "running"))})
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
		svc, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	settled := func(what string) {
		eventually(t, 90*time.Second, what, func() (bool, string) {
			r, w, st := states()
			svc := service()
			return r == 2 && w == 0 && (svc.UpdateStatus == nil || svc.UpdateStatus.State != swarm.UpdateStateUpdating), st
		})
	}
	settled("two runners running")
	d.CLI(t, "service", "update", "--detach", "--force", runner)
	eventually(t, 90*time.Second, "--force rollout done", func() (bool, string) {
		svc := service()
		return svc.UpdateStatus != nil && svc.UpdateStatus.State == swarm.UpdateStateCompleted, fmt.Sprint(svc.UpdateStatus)
	})
	settled("two runners running after --force")
	force := service().Spec.TaskTemplate.ForceUpdate

	// The bug: the runners wait for a node (the only one drained), the
	// service's revision advances, the scheduler makes a pass while no
	// node can take them (a node update), the node comes back.
	nodeUpdate(t, d, "--availability", "drain", d.NodeID)
	eventually(t, 60*time.Second, "runner tasks waiting for a node", func() (bool, string) {
		r, w, st := states()
		return r == 0 && w == 2, st
	})
	d.CLI(t, "service", "update", "--detach", "--label-add", "revision=advanced", runner)
	time.Sleep(time.Second)
	nodeUpdate(t, d, "--label-add", "poke=1", d.NodeID)
	time.Sleep(time.Second)
	nodeUpdate(t, d, "--availability", "active", d.NodeID)
	time.Sleep(10 * time.Second)
	if r, w, st := states(); r != 0 || w != 2 {
		t.Fatalf("swarm scheduled the waiting runners by itself (moby/moby#53722 did not reproduce: fixed in this engine? then this workaround can go): %s", st)
	}

	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	defer func() { cancel(); <-done }()
	took := eventually(t, 60*time.Second, "the stuck runner tasks replaced by running ones", func() (bool, string) {
		r, w, st := states()
		return r == 2 && w == 0 && replicas(service()) == 2, st
	})
	t.Logf("stuck runners running again %v after the reconciler started", took)
	if got := service().Spec.TaskTemplate.ForceUpdate; got != force {
		t.Errorf("the nudge changed ForceUpdate: %d, want %d", got, force)
	}
	nudged := false
	for _, a := range rec.RecentActions() {
		if a.What == "nudged service/"+runner && a.Err == "" {
			nudged = true
			t.Logf("action: %s: %s", a.What, a.Why)
		}
	}
	if !nudged {
		t.Errorf("no nudge in the action log: %+v", rec.RecentActions())
	}
}
