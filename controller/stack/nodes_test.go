package stack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"go.uber.org/zap/zaptest"
)

// TestRunnerReplicasFollowNodesJoiningAndLeaving joins a second engine to
// the swarm as a worker and makes it leave again; the event-driven loop
// must grow the runner service by the worker's CPUs and shrink it back.
func TestRunnerReplicasFollowNodesJoiningAndLeaving(t *testing.T) {
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

	runnerReplicas := func() (uint64, error) {
		svc, _, err := d.Client.ServiceInspectWithRaw(ctx, stackspec.ObjectName(s, stackspec.Runner), swarm.ServiceInspectOptions{})
		if err != nil {
			return 0, err
		}
		return replicas(svc), nil
	}
	expected := func() uint64 {
		nodes, err := d.Client.NodeList(ctx, swarm.NodeListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ns []stackspec.Node
		for _, n := range nodes {
			ns = append(ns, stackspec.NodeFromSwarm(n))
		}
		return stackspec.RunnerReplicas(s, ns)
	}
	waitReplicas := func(what string, want uint64) time.Duration {
		return eventually(t, 60*time.Second, what, func() (bool, string) {
			r, err := runnerReplicas()
			return err == nil && r == want, fmt.Sprintf("replicas %d (%v), want %d", r, err, want)
		})
	}
	alone := expected()
	waitReplicas("runners on the manager alone", alone)

	start := time.Now()
	w := d.JoinWorker(t)
	joinTook := time.Since(start)
	var workerCPUs int64
	eventually(t, 30*time.Second, "worker ready", func() (bool, string) {
		n, _, err := d.Client.NodeInspectWithRaw(ctx, w.NodeID)
		workerCPUs = n.Description.Resources.NanoCPUs
		return err == nil && n.Status.State == swarm.NodeStateReady, fmt.Sprint(n.Status.State, err)
	})
	together := expected()
	if want := alone + uint64(workerCPUs/950_000_000); together != want {
		t.Fatalf("with the worker stackspec wants %d runners, expected %d", together, want)
	}
	took := waitReplicas("runners grow onto the joined worker", together)
	t.Logf("MEASURE worker joined (%v) -> runner replicas %d->%d: %v after ready", joinTook, alone, together, took)

	start = time.Now()
	w.Leave(t)
	waitReplicas("runners shrink after the worker left", alone)
	// Most of this is the manager noticing the node is down (heartbeats).
	t.Logf("MEASURE worker left -> runner replicas %d->%d: %v", together, alone, time.Since(start))
}
