package stack

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
)

// allRunning reports whether every stack service has its tasks running.
func allRunning(ctx context.Context, d *dockertest.Daemon, f *fixture) bool {
	st, err := Status(ctx, d.Client, f.stack)
	if err != nil {
		return false
	}
	for _, x := range st {
		if !x.Present || !x.InSync || x.Running == 0 || x.Mode == "replicated" && uint64(x.Running) != x.Desired {
			return false
		}
	}
	return true
}

// BenchmarkStackDeployToConverged measures, on a private one-node swarm,
// the time from an empty swarm to every stack service running (one
// reconcile pass creates everything; the rest is the engine starting
// tasks), and the time from `docker service rm` of the runner service to
// its recreation by the event-driven loop, and to its task running again.
func BenchmarkStackDeployToConverged(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchOnce(b)
	}
}

func benchOnce(b *testing.B) {
	b.StopTimer()
	d := dockertest.Start(b)
	d.ImportGoImage(b, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	f := newBenchFixture(b, d)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.StartTimer()

	start := time.Now()
	if _, err := f.rec.Reconcile(ctx); err != nil {
		b.Fatal(err)
	}
	created := time.Since(start)
	for !allRunning(ctx, d, f) {
		if time.Since(start) > 2*time.Minute {
			b.Fatal("stack did not converge within 2m")
		}
		time.Sleep(20 * time.Millisecond)
	}
	converged := time.Since(start)

	runDone := make(chan error, 1)
	go func() { runDone <- f.rec.Run(ctx) }()
	defer func() { cancel(); <-runDone }()
	name := stackspec.ObjectName(f.stack, stackspec.Runner)
	old, _, err := d.Client.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if err := d.Client.ServiceRemove(ctx, old.ID); err != nil {
		b.Fatal(err)
	}
	var recreated, taskRunning time.Duration
	for {
		if time.Since(start) > time.Minute {
			b.Fatal("runner not recreated within 1m")
		}
		s, _, err := d.Client.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
		if err == nil && s.ID != old.ID {
			if recreated == 0 {
				recreated = time.Since(start)
			}
			tasks, _ := d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID))})
			if len(tasks) > 0 && tasks[0].Status.State == swarm.TaskStateRunning {
				taskRunning = time.Since(start)
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(created.Milliseconds()), "ms-create-pass")
	b.ReportMetric(float64(converged.Milliseconds()), "ms-deploy-to-converged")
	b.ReportMetric(float64(recreated.Milliseconds()), "ms-rm-to-recreated")
	b.ReportMetric(float64(taskRunning.Milliseconds()), "ms-rm-to-task-running")
}

func newBenchFixture(b *testing.B, d *dockertest.Daemon) *fixture {
	s := testStack(b, d)
	ctx := context.Background()
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{
		Annotations: swarm.Annotations{Name: stackspec.ObjectName(s, s.Spec.Controller.APITokenSecret)},
		Data:        []byte("bench-token-0123456789abcdef"),
	}); err != nil {
		b.Fatal(err)
	}
	rec, err := New(Config{Stack: s, Docker: d.Client, Events: d.Client, Resync: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return &fixture{d: d, stack: s, rec: rec}
}
