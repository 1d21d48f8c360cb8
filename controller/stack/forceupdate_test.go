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

// TestReplicaChangeAfterForceUpdateLeavesRunnerTasksAlone: someone ran
// `docker service update --force` on the runner service, then a node joins
// and simswarm raises the replica count. The update must carry the
// service's ForceUpdate counter (as docker stack deploy does): a spec
// without it differs from the tasks' and swarm redeploys every runner,
// killing the simulations in flight.
func TestReplicaChangeAfterForceUpdateLeavesRunnerTasksAlone(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testStack(t, d)
	half := 0.5
	s.Spec.Runner.CPUReservation = &half // two runners on the manager, not one
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
	// waitTwo waits for two running runner tasks, none of them in old: the
	// --force rollout may not have begun when the command returns, and its
	// replacing the old tasks later must not count against the replica
	// change (a full suite run under load failed on exactly that).
	waitTwo := func(what string, old map[string]string) {
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
			return len(before) == 2 && !updating, state
		})
	}
	waitTwo("two runners on the manager", nil)
	d.CLI(t, "service", "update", "--detach", "--force", runner)
	waitTwo("two runners again after --force", before)
	t.Logf("runner tasks after --force: %v", before)

	// A node joins: simswarm raises the runner replicas.
	w := d.JoinWorker(t)
	eventually(t, 60*time.Second, "replicas raised for the joined worker", func() (bool, string) {
		svc, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
		if err != nil {
			return false, err.Error()
		}
		n, _, err := d.Client.NodeInspectWithRaw(ctx, w.NodeID)
		return err == nil && n.Status.State == swarm.NodeStateReady && replicas(svc) > 2,
			fmt.Sprintf("replicas %d, worker %s", replicas(svc), n.Status.State)
	})
	svc, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.TaskTemplate.ForceUpdate == 0 {
		t.Errorf("the replica change dropped the ForceUpdate counter set by --force")
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
				t.Fatalf("runner task %s (started %s) was restarted or replaced by the replica change: running now %v (%s)", id, started, keys, state)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}
