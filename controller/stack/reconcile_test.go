package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/stackspec"
	"go.uber.org/zap/zaptest"
)

// TestStackReconcilerOnRealSwarm checks the reconciler against a real
// one-node swarm. The cases share the engine (see world) but nothing else:
// each sets up the state it starts from (an empty or a converged stack)
// and makes its own Reconciler, so each runs alone, e.g.
//
//	go test -run 'TestStackReconcilerOnRealSwarm/TamperedEnvIsRestored' ./controller/stack/
//
// The cases from ScaledByHandIsRestored on let the event-driven loop (Run)
// do the work: the Resync period is an hour, so events, not resyncs, must
// drive healing.
func TestStackReconcilerOnRealSwarm(t *testing.T) {
	w := newWorld(t)

	t.Run("MissingSecretBlocksOnlyTheController", func(t *testing.T) {
		f := w.empty(t, false)
		rec, err := New(Config{Stack: f.stack, Docker: f.d.Client, Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := rec.Reconcile(t.Context())
		if err == nil || !strings.Contains(err.Error(), "secret simswarm_api-token does not exist") {
			t.Errorf("want a missing-secret error, got %v", err)
		}
		if len(res.Created) != 2+5 || slices.Contains(res.Created, "service/simswarm_controller") {
			t.Errorf("created %v: want everything but the controller", res.Created)
		}
	})

	t.Run("ConvergeFromEmpty", func(t *testing.T) {
		f := w.empty(t, true)
		ctx := t.Context()
		start := time.Now()
		res, err := f.rec.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("first pass: %v, %d writes: %v", time.Since(start), res.Writes(), f.docker.take())
		want := f.desired(t)
		if len(res.Created) != len(want.Services)+len(want.Networks) {
			t.Errorf("created %v, want %d services and %d networks", res.Created, len(want.Services), len(want.Networks))
		}
		for _, w := range want.Services {
			s, ok := f.service(t, w.Component)
			if !ok {
				t.Errorf("service %s missing", w.Name)
				continue
			}
			if s.Spec.Labels[stackspec.LabelStack] != "simswarm" || s.Spec.Labels[stackspec.LabelSpecHash] != w.Hash {
				t.Errorf("service %s labels %v, want hash %s", w.Name, s.Spec.Labels, w.Hash)
			}
		}
		nets, err := f.d.Client.NetworkList(ctx, network.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want.Networks {
			found := false
			for _, n := range nets {
				if n.Name == w.Name && n.Driver == "overlay" && n.Attachable && n.Labels[stackspec.LabelSpecHash] == w.Hash {
					found = true
				}
			}
			if !found {
				t.Errorf("network %s missing or wrong", w.Name)
			}
		}
	})

	t.Run("SecondPassMakesNoWrites", func(t *testing.T) {
		// The stack was converged by another Reconciler: this one's
		// first pass already must not write.
		f := w.converged(t)
		for i := 0; i < 2; i++ {
			res, err := f.rec.Reconcile(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if w := f.docker.take(); len(w) != 0 || res.Writes() != 0 {
				t.Fatalf("pass %d on a converged swarm wrote: %v (result %+v)", i+1, w, res)
			}
		}
	})

	t.Run("DistccHostsPublished", func(t *testing.T) {
		f := w.converged(t) // Redis empty: nothing published yet
		ctx := t.Context()
		var published string
		eventually(t, 60*time.Second, "distcc host list in redis", func() (bool, string) {
			if _, err := f.rec.Reconcile(ctx); err != nil {
				return false, err.Error()
			}
			hosts, _ := f.runningDistcc(t)
			published, _ = f.rdb.Get(ctx, schema.DistccHostsKey).Result()
			return len(hosts) > 0 && published == strings.Join(hosts, " "), fmt.Sprintf("tasks %v, redis %q", hosts, published)
		})
		t.Logf("published distcc hosts: %q", published)
		if w := f.docker.take(); len(w) != 0 {
			t.Errorf("publishing hosts wrote to docker: %v", w)
		}
	})

	t.Run("RunnerServiceRemovedIsRecreated", func(t *testing.T) {
		f := w.converged(t)
		f.run(t)
		ctx := t.Context()
		old, _ := f.service(t, stackspec.Runner)
		start := time.Now()
		f.d.CLI(t, "service", "rm", old.Spec.Name)
		took := eventually(t, 30*time.Second, "runner recreated", func() (bool, string) {
			s, ok := f.service(t, stackspec.Runner)
			return ok && s.ID != old.ID, "absent"
		})
		t.Logf("MEASURE service rm -> recreated: %v (CLI returned after %v)", took+0, time.Since(start)-took)
		s, _ := f.service(t, stackspec.Runner)
		eventually(t, 60*time.Second, "recreated runner task running", func() (bool, string) {
			tasks, _ := f.d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID), filters.Arg("desired-state", "running"))})
			for _, task := range tasks {
				if task.Status.State == swarm.TaskStateRunning {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d tasks", len(tasks))
		})
		t.Logf("MEASURE service rm -> recreated runner task running: %v", time.Since(start))
	})

	t.Run("ScaledByHandIsRestored", func(t *testing.T) {
		f := w.converged(t)
		f.run(t)
		want := replicas(mustService(t, f, stackspec.Builder))
		f.d.CLI(t, "service", "scale", "--detach", stackspec.ObjectName(f.stack, stackspec.Builder)+"=7")
		took := eventually(t, 30*time.Second, "builder replicas restored", func() (bool, string) {
			s := mustService(t, f, stackspec.Builder)
			return replicas(s) == want && s.Spec.Labels[stackspec.LabelSpecHash] == f.desiredHash(t, stackspec.Builder), fmt.Sprint(replicas(s))
		})
		t.Logf("MEASURE scale by hand -> restored to %d: %v", want, took)
	})

	t.Run("TamperedEnvIsRestored", func(t *testing.T) {
		f := w.converged(t)
		f.run(t)
		name := stackspec.ObjectName(f.stack, stackspec.Builder)
		f.d.CLI(t, "service", "update", "--detach", "--no-resolve-image", "--env-add", "TAMPERED=1", name)
		if !slices.Contains(mustService(t, f, stackspec.Builder).Spec.TaskTemplate.ContainerSpec.Env, "TAMPERED=1") {
			// The reconciler may already have restored it; either way the
			// check below is what matters.
			t.Log("tamper already reverted when first observed")
		}
		took := eventually(t, 30*time.Second, "builder env restored", func() (bool, string) {
			env := mustService(t, f, stackspec.Builder).Spec.TaskTemplate.ContainerSpec.Env
			return !slices.Contains(env, "TAMPERED=1"), strings.Join(env, " ")
		})
		t.Logf("MEASURE env tampered -> restored: %v", took)
	})

	t.Run("StrayLabelledServiceIsRemoved", func(t *testing.T) {
		f := w.converged(t)
		f.run(t)
		ctx := t.Context()
		stray := createStray(t, f)
		eventually(t, 30*time.Second, "stray stack service removed", func() (bool, string) {
			_, _, err := f.d.Client.ServiceInspectWithRaw(ctx, stray, swarm.ServiceInspectOptions{})
			return err != nil && strings.Contains(err.Error(), "not found"), fmt.Sprint(err)
		})
	})

	t.Run("DistccRemovedIsRecreatedAndHostsRepublished", func(t *testing.T) {
		f := w.converged(t)
		f.run(t)
		ctx := t.Context()
		var published string
		eventually(t, 60*time.Second, "distcc hosts published before the removal", func() (bool, string) {
			hosts, _ := f.runningDistcc(t)
			published, _ = f.rdb.Get(ctx, schema.DistccHostsKey).Result()
			return len(hosts) > 0 && published == strings.Join(hosts, " "), fmt.Sprintf("tasks %v, redis %q", hosts, published)
		})
		_, oldTasks := f.runningDistcc(t)
		start := time.Now()
		f.d.CLI(t, "service", "rm", stackspec.ObjectName(f.stack, stackspec.Distcc))
		eventually(t, 60*time.Second, "distcc recreated and host list updated", func() (bool, string) {
			hosts, ids := f.runningDistcc(t)
			published, _ = f.rdb.Get(ctx, schema.DistccHostsKey).Result()
			fresh := len(ids) > 0 && !slices.Contains(oldTasks, ids[0])
			return fresh && published == strings.Join(hosts, " "), fmt.Sprintf("tasks %v hosts %v redis %q", ids, hosts, published)
		})
		t.Logf("MEASURE distcc rm -> new task running and host list %q republished: %v", published, time.Since(start))
	})

	t.Run("RunnerSlotsFollowNodes", func(t *testing.T) {
		f := w.converged(t)
		f.run(t)
		ctx := t.Context()
		slots := func() string {
			v, err := f.rdb.HGet(ctx, schema.RunnerSlotsKey, f.selfID).Result()
			if err != nil {
				return err.Error()
			}
			return v
		}
		eventually(t, 30*time.Second, "the node's slots published", func() (bool, string) {
			return slots() == "1", slots() // 2 CPUs, 1 reserved, 0.95 a slot
		})
		runner := mustService(t, f, stackspec.Runner)
		nodeUpdate(t, f.d, "--label-add", f.stack.Spec.Runner.ExcludeLabel+"=false", f.selfID)
		took := eventually(t, 30*time.Second, "no slots on the excluded node", func() (bool, string) {
			return slots() == redis.Nil.Error(), slots()
		})
		t.Logf("MEASURE node excluded -> its slots withdrawn: %v", took)
		nodeUpdate(t, f.d, "--label-rm", f.stack.Spec.Runner.ExcludeLabel, f.selfID)
		eventually(t, 30*time.Second, "slots back on the node", func() (bool, string) {
			return slots() == "1", slots()
		})
		if v := mustService(t, f, stackspec.Runner).Version.Index; v != runner.Version.Index {
			t.Errorf("the runner service was written (version %d -> %d): a node's slots must need no service change", runner.Version.Index, v)
		}
	})

	t.Run("ObjectsWithoutTheLabelSurvive", func(t *testing.T) {
		// Every case checks the world's bystanders when it ends; this one
		// makes the loop create, update and remove services of the stack
		// next to them, and checks that it did.
		f := w.converged(t)
		f.run(t)
		ctx := t.Context()
		builder := mustService(t, f, stackspec.Builder)
		want := replicas(mustService(t, f, stackspec.Redis))
		f.d.CLI(t, "service", "rm", builder.Spec.Name)
		f.d.CLI(t, "service", "scale", "--detach", stackspec.ObjectName(f.stack, stackspec.Redis)+"=7")
		stray := createStray(t, f)
		eventually(t, 30*time.Second, "builder recreated, redis replicas restored, stray removed", func() (bool, string) {
			b, ok := f.service(t, stackspec.Builder)
			r := replicas(mustService(t, f, stackspec.Redis))
			_, _, err := f.d.Client.ServiceInspectWithRaw(ctx, stray, swarm.ServiceInspectOptions{})
			gone := err != nil && strings.Contains(err.Error(), "not found")
			return ok && b.ID != builder.ID && r == want && gone, fmt.Sprintf("builder %v, redis %d, stray: %v", ok, r, err)
		})
		writes := strings.Join(f.docker.take(), "\n")
		for _, call := range []string{"ServiceCreate " + builder.Spec.Name, "ServiceUpdate " + stackspec.ObjectName(f.stack, stackspec.Redis), "ServiceRemove " + stray} {
			if !strings.Contains(writes, call) {
				t.Errorf("the loop did not %s; writes:\n%s", call, writes)
			}
		}
		w.checkBystanders(t)
	})

	t.Run("ConvergedLoopStaysQuiet", func(t *testing.T) {
		f := w.converged(t)
		f.run(t)
		eventually(t, 10*time.Second, "the loop's first pass", func() (bool, string) {
			return f.rec.Passes() > 0, ""
		})
		if w := f.docker.take(); len(w) != 0 {
			t.Errorf("first pass of the loop on a converged swarm wrote: %v", w)
		}
		passes := f.rec.Passes()
		// A node event makes the loop pass again; nothing may be written.
		nodeUpdate(t, f.d, "--label-add", "unrelated=1", f.selfID)
		eventually(t, 10*time.Second, "a completed pass after the node event", func() (bool, string) {
			return f.rec.Passes() > passes, ""
		})
		if w := f.docker.take(); len(w) != 0 {
			t.Errorf("converged loop wrote: %v", w)
		}
	})

	// A controller that does not lead never writes, however many events
	// and resyncs it sees, and converges once it leads.
	t.Run("FollowerWritesNothing", func(t *testing.T) {
		f := w.converged(t)
		ctx := t.Context()
		controller := mustService(t, f, stackspec.Controller)
		f.d.CLI(t, "service", "rm", controller.Spec.Name) // something for a leader to do
		var leading atomic.Bool
		rec, err := New(Config{Stack: f.stack, Docker: f.docker, Events: f.d.Client, Logger: zaptest.NewLogger(t),
			Leading: leading.Load, Resync: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- rec.Run(rctx) }()
		defer func() { cancel(); <-done }()
		// Events and several resync periods while following.
		nodeUpdate(t, f.d, "--label-add", "poke=1", f.selfID)
		time.Sleep(500 * time.Millisecond)
		if w := f.docker.take(); len(w) != 0 || rec.Passes() != 0 {
			t.Fatalf("follower made %d passes and wrote %v", rec.Passes(), w)
		}
		if _, ok := f.service(t, stackspec.Controller); ok {
			t.Fatalf("the controller service came back while following")
		}
		leading.Store(true)
		var want []string
		for _, s := range f.desired(t).Services {
			want = append(want, s.Name)
		}
		slices.Sort(want)
		took := eventually(t, 10*time.Second, "new leader converges", func() (bool, string) {
			svcs, _ := f.d.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
				filters.Arg("label", stackspec.LabelStack+"="+f.stack.Metadata.Name))})
			var names []string
			for _, s := range svcs {
				names = append(names, s.Spec.Name)
			}
			slices.Sort(names)
			return len(svcs) == 6 && slices.Equal(names, want), fmt.Sprint(names)
		})
		t.Logf("converged %v after becoming leader", took)
	})

	// An update that loses a race ("update out of sequence") is retried
	// with a fresh version.
	t.Run("UpdateRetriesOutOfSequence", func(t *testing.T) {
		f := w.converged(t)
		ctx := t.Context()
		fake := &outOfSequence{Docker: f.d.Client}
		rec, err := New(Config{Stack: f.stack, Docker: fake, Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "converged", func() (bool, string) {
			res, err := rec.Reconcile(ctx)
			return err == nil && res.Writes() == 0, fmt.Sprint(res, err)
		})
		f.d.CLI(t, "service", "update", "--detach", "--no-resolve-image", "--env-add", "X=1", "simswarm_redis")
		res, err := rec.Reconcile(ctx)
		if err != nil {
			t.Fatalf("update was not retried: %v", err)
		}
		if !fake.failed || !slices.Equal(res.Updated, []string{"service/simswarm_redis"}) {
			t.Errorf("updated %v (injected failure used: %v)", res.Updated, fake.failed)
		}
	})
}

// createStray creates a service that carries the stack's label but is not
// part of it, and returns its ID.
func createStray(t *testing.T, f *fixture) string {
	t.Helper()
	zero := uint64(0)
	stray, err := f.d.Client.ServiceCreate(t.Context(), swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "simswarm_stray", Labels: map[string]string{stackspec.LabelStack: "simswarm"}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: testImage}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return stray.ID
}

// outOfSequence makes the first ServiceUpdate fail as if another writer had
// updated the service in between.
type outOfSequence struct {
	Docker
	failed bool
}

func (o *outOfSequence) ServiceUpdate(ctx context.Context, id string, v swarm.Version, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	if !o.failed {
		o.failed = true
		return swarm.ServiceUpdateResponse{}, errors.New("Error response from daemon: rpc error: code = Unknown desc = update out of sequence")
	}
	return o.Docker.ServiceUpdate(ctx, id, v, spec, opts)
}
