package stack

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"go.uber.org/zap/zaptest"
)

// TestNodeJoiningAfterForceUpdateLeavesRunnerTasksAlone: someone ran
// `docker service update --force` on the runner service, then a node
// joins. The runner is global: Swarm starts one on the new node, and
// simswarm only publishes the node's slot count. Nothing may write the
// runner service (an update without the ForceUpdate counter would differ
// from the tasks' spec and swarm would redeploy every runner, killing the
// simulations in flight), and the manager's runner keeps running.
func TestNodeJoiningAfterForceUpdateLeavesRunnerTasksAlone(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testStack(t, d)
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "simswarm_api-token"}, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	rec, err := New(Config{Stack: s, Docker: d.Client, Events: d.Client, Logger: zaptest.NewLogger(t), Resync: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	defer func() { cancel(); <-done }()

	runner := stackspec.ObjectName(s, stackspec.Runner)
	// running lists the runner tasks that are running and meant to, with
	// their containers' start times.
	running := func() (map[string]string, string) {
		tasks, err := d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
			filters.Arg("service", runner), filters.Arg("desired-state", "running"), filters.Arg("node", d.NodeID))})
		if err != nil {
			return nil, err.Error()
		}
		out := map[string]string{}
		var states []string
		for _, task := range tasks {
			states = append(states, string(task.Status.State))
			if task.Status.State != swarm.TaskStateRunning || task.Status.ContainerStatus == nil {
				continue
			}
			c, err := d.Client.ContainerInspect(ctx, task.Status.ContainerStatus.ContainerID)
			if err != nil {
				return nil, err.Error()
			}
			out[task.ID] = c.State.StartedAt
		}
		return out, fmt.Sprint(states)
	}
	var before map[string]string
	// waitOne waits for the manager's running runner task, not one in old:
	// the --force rollout may not have begun when the command returns, and
	// its replacing the old task later must not count against the node
	// joining (a full suite run under load failed on exactly that).
	waitOne := func(what string, old map[string]string) {
		eventually(t, 90*time.Second, what, func() (bool, string) {
			var state string
			before, state = running()
			svc, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
			updating := err == nil && svc.UpdateStatus != nil && svc.UpdateStatus.State == swarm.UpdateStateUpdating
			for id := range before {
				if _, ok := old[id]; ok {
					return false, state + " (the tasks from before --force still run)"
				}
			}
			return len(before) == 1 && !updating, state
		})
	}
	waitOne("the manager's runner", nil)
	d.CLI(t, "service", "update", "--detach", "--force", runner)
	waitOne("the manager's runner again after --force", before)
	t.Logf("runner tasks after --force: %v", before)

	// A node joins: Swarm gives it a runner.
	w := d.JoinWorker(t)
	eventually(t, 90*time.Second, "a runner task on the joined worker", func() (bool, string) {
		// Placed there: tasks of engines sharing one network namespace
		// cannot run on the overlay (dockertest.JoinWorker).
		nodes := taskNodes(ctx, t, d, runner, false)
		return slices.Contains(nodes, w.NodeID), fmt.Sprint("tasks on ", nodes)
	})
	svc, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.TaskTemplate.ForceUpdate == 0 {
		t.Errorf("the node joining dropped the ForceUpdate counter set by --force")
	}
	// A redeploy (stop-first, one task at a time) takes the first manager
	// task down within a second or two; give it ample time to show.
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		after, state := running()
		for id, started := range before {
			if after[id] != started {
				keys := slices.Sorted(func(yield func(string) bool) {
					for k := range after {
						if !yield(k) {
							return
						}
					}
				})
				t.Fatalf("runner task %s (started %s) was restarted or replaced when a node joined: running now %v (%s)", id, started, keys, state)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}
