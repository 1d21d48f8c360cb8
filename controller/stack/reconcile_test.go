package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testdb"
	"go.uber.org/zap/zaptest"
)

const testImage = "simswarm-test/app:1"

// testStack is the default stack with every image replaced by the tiny
// imported test image (no registry here), so tasks really run.
func testStack(t testing.TB, d *dockertest.Daemon) *api.Stack {
	s := api.DefaultStack("simswarm")
	// The controller manages the private engine, never the host's.
	s.Spec.Controller.DockerSocket = strings.TrimPrefix(d.Host, "unix://")
	s.Spec.Images = api.StackImages{Controller: testImage, Worker: testImage, Distcc: testImage, Redis: testImage, Mongo: testImage}
	s.Spec.Controller.Port = int32(freeport.Port(t))
	api.SetStackDefaults(s)
	return s
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not reached within %v (last state: %s)", what, timeout, state)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

type fixture struct {
	d      *dockertest.Daemon
	stack  *api.Stack
	docker *countingDocker
	rdb    *redis.Client
	rec    *Reconciler
	selfID string
}

func newFixture(t *testing.T) *fixture {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	srv := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	f := &fixture{d: d, stack: testStack(t, d), docker: &countingDocker{Docker: d.Client}, rdb: rdb, selfID: d.NodeID}
	ctx := context.Background()
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{
		Annotations: swarm.Annotations{Name: stackspec.ObjectName(f.stack, f.stack.Spec.Controller.APITokenSecret)},
		Data:        []byte("test-token"),
	}); err != nil {
		t.Fatal(err)
	}
	rec, err := New(Config{
		Stack: f.stack, Docker: f.docker, Events: d.Client, Hosts: RedisHosts{Client: rdb},
		Logger: zaptest.NewLogger(t), Resync: time.Hour, // events, not resyncs, must drive healing
	})
	if err != nil {
		t.Fatal(err)
	}
	f.rec = rec
	return f
}

func (f *fixture) service(t *testing.T, comp string) (swarm.Service, bool) {
	t.Helper()
	name := stackspec.ObjectName(f.stack, comp)
	list, err := f.d.Client.ServiceList(context.Background(), swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Spec.Name == name {
			return s, true
		}
	}
	return swarm.Service{}, false
}

func (f *fixture) desired(t *testing.T) *stackspec.Desired {
	t.Helper()
	nodes, err := f.d.Client.NodeList(context.Background(), swarm.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ns []stackspec.Node
	for _, n := range nodes {
		ns = append(ns, stackspec.NodeFromSwarm(n))
	}
	d, err := stackspec.Build(f.stack, ns)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) desiredHash(t *testing.T, comp string) string {
	for _, s := range f.desired(t).Services {
		if s.Component == comp {
			return s.Hash
		}
	}
	t.Fatalf("no desired %s", comp)
	return ""
}

func replicas(s swarm.Service) uint64 {
	if s.Spec.Mode.Replicated == nil || s.Spec.Mode.Replicated.Replicas == nil {
		return 0
	}
	return *s.Spec.Mode.Replicated.Replicas
}

// runningDistcc returns the buildnet host entries of running distcc tasks.
func (f *fixture) runningDistcc(t *testing.T) ([]string, []string) {
	t.Helper()
	tasks, err := f.d.Client.TaskList(context.Background(), swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", stackspec.ObjectName(f.stack, stackspec.Distcc)), filters.Arg("desired-state", "running"))})
	if cerrdefs.IsNotFound(err) {
		return nil, nil // removed and not yet recreated
	}
	if err != nil {
		t.Fatal(err)
	}
	var hosts, ids []string
	for _, task := range tasks {
		if task.Status.State != swarm.TaskStateRunning {
			continue
		}
		ids = append(ids, task.ID)
		for _, na := range task.NetworksAttachments {
			if na.Network.Spec.Name == stackspec.ObjectName(f.stack, stackspec.Buildnet) {
				for _, a := range na.Addresses {
					hosts = append(hosts, strings.Split(a, "/")[0]+":"+strconv.Itoa(int(f.stack.Spec.Distcc.Port)))
				}
			}
		}
	}
	slices.Sort(hosts)
	return hosts, ids
}

func TestStackReconcilerOnRealSwarm(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cli := f.d.Client

	// Objects that are not the stack's: they must survive everything.
	bystanderNet, err := cli.NetworkCreate(ctx, "othernet", network.CreateOptions{Driver: "overlay", Attachable: true})
	if err != nil {
		t.Fatal(err)
	}
	zero := uint64(0)
	bystander, err := cli.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "bystander"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: testImage}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	otherStack, err := cli.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "other_runner", Labels: map[string]string{stackspec.LabelStack: "other"}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: testImage}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ConvergeFromEmpty", func(t *testing.T) {
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
		nets, err := cli.NetworkList(ctx, network.ListOptions{})
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
		for i := 0; i < 2; i++ {
			res, err := f.rec.Reconcile(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if w := f.docker.take(); len(w) != 0 || res.Writes() != 0 {
				t.Fatalf("pass %d on a converged swarm wrote: %v (result %+v)", i+2, w, res)
			}
		}
	})

	t.Run("DistccHostsPublished", func(t *testing.T) {
		var published string
		eventually(t, 60*time.Second, "distcc host list in redis", func() (bool, string) {
			if _, err := f.rec.Reconcile(ctx); err != nil {
				return false, err.Error()
			}
			hosts, _ := f.runningDistcc(t)
			published, _ = f.rdb.Get(ctx, stackspec.DistccHostsKey).Result()
			return len(hosts) > 0 && published == strings.Join(hosts, " "), fmt.Sprintf("tasks %v, redis %q", hosts, published)
		})
		t.Logf("published distcc hosts: %q", published)
		if w := f.docker.take(); len(w) != 0 {
			t.Errorf("publishing hosts wrote to docker: %v", w)
		}
	})

	// From here on the event-driven loop does the work.
	runDone := make(chan error, 1)
	go func() { runDone <- f.rec.Run(ctx) }()
	defer func() { cancel(); <-runDone }()

	t.Run("RunnerServiceRemovedIsRecreated", func(t *testing.T) {
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
			tasks, _ := cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID), filters.Arg("desired-state", "running"))})
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
		want := replicas(mustService(t, f, stackspec.Runner))
		f.d.CLI(t, "service", "scale", "--detach", stackspec.ObjectName(f.stack, stackspec.Runner)+"=7")
		took := eventually(t, 30*time.Second, "runner replicas restored", func() (bool, string) {
			s := mustService(t, f, stackspec.Runner)
			return replicas(s) == want && s.Spec.Labels[stackspec.LabelSpecHash] == f.desiredHash(t, stackspec.Runner), fmt.Sprint(replicas(s))
		})
		t.Logf("MEASURE scale by hand -> restored to %d: %v", want, took)
	})

	t.Run("TamperedEnvIsRestored", func(t *testing.T) {
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
		stray, err := cli.ServiceCreate(ctx, swarm.ServiceSpec{
			Annotations:  swarm.Annotations{Name: "simswarm_stray", Labels: map[string]string{stackspec.LabelStack: "simswarm"}},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: testImage}},
			Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
		}, swarm.ServiceCreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "stray stack service removed", func() (bool, string) {
			_, _, err := cli.ServiceInspectWithRaw(ctx, stray.ID, swarm.ServiceInspectOptions{})
			return err != nil && strings.Contains(err.Error(), "not found"), fmt.Sprint(err)
		})
	})

	t.Run("DistccRemovedIsRecreatedAndHostsRepublished", func(t *testing.T) {
		_, oldTasks := f.runningDistcc(t)
		start := time.Now()
		f.d.CLI(t, "service", "rm", stackspec.ObjectName(f.stack, stackspec.Distcc))
		var published string
		eventually(t, 60*time.Second, "distcc recreated and host list updated", func() (bool, string) {
			hosts, ids := f.runningDistcc(t)
			published, _ = f.rdb.Get(ctx, stackspec.DistccHostsKey).Result()
			fresh := len(ids) > 0 && !slices.Contains(oldTasks, ids[0])
			return fresh && published == strings.Join(hosts, " "), fmt.Sprintf("tasks %v hosts %v redis %q", ids, hosts, published)
		})
		t.Logf("MEASURE distcc rm -> new task running and host list %q republished: %v", published, time.Since(start))
	})

	t.Run("RunnerReplicasFollowNodes", func(t *testing.T) {
		before := replicas(mustService(t, f, stackspec.Runner))
		if before == 0 {
			t.Fatalf("this node should hold at least one runner (2 CPUs, 1 reserved)")
		}
		nodeUpdate(t, f.d, "--label-add", f.stack.Spec.Runner.ExcludeLabel+"=false", f.selfID)
		took := eventually(t, 30*time.Second, "runners withdrawn from excluded node", func() (bool, string) {
			r := replicas(mustService(t, f, stackspec.Runner))
			return r == 0, fmt.Sprint(r)
		})
		t.Logf("MEASURE node excluded -> runner replicas %d->0: %v", before, took)
		nodeUpdate(t, f.d, "--label-rm", f.stack.Spec.Runner.ExcludeLabel, f.selfID)
		eventually(t, 30*time.Second, "runners back on the node", func() (bool, string) {
			r := replicas(mustService(t, f, stackspec.Runner))
			return r == before, fmt.Sprint(r)
		})
	})

	t.Run("ObjectsWithoutTheLabelSurvive", func(t *testing.T) {
		for _, id := range []string{bystander.ID, otherStack.ID} {
			s, _, err := cli.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
			if err != nil {
				t.Fatalf("service %s gone: %v", id, err)
			}
			if s.Version.Index != s.Meta.Version.Index || s.UpdatedAt != s.CreatedAt {
				t.Errorf("service %s was modified (created %v, updated %v)", s.Spec.Name, s.CreatedAt, s.UpdatedAt)
			}
		}
		if _, err := cli.NetworkInspect(ctx, bystanderNet.ID, network.InspectOptions{}); err != nil {
			t.Errorf("unlabelled network gone: %v", err)
		}
	})

	t.Run("ConvergedLoopStaysQuiet", func(t *testing.T) {
		f.docker.take()
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
}

func mustService(t *testing.T, f *fixture, comp string) swarm.Service {
	t.Helper()
	s, ok := f.service(t, comp)
	if !ok {
		t.Fatalf("service %s missing", comp)
	}
	return s
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

// TestFollowerWritesNothingAndUpdatesRetry shares one engine between two
// checks: a controller that does not lead never writes, however many
// events and resyncs it sees, and converges once it leads; and an update
// that loses a race ("update out of sequence") is retried with a fresh
// version.
func TestFollowerWritesNothingAndUpdatesRetry(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	ctx := context.Background()
	s := testStack(t, d)

	t.Run("MissingSecretBlocksOnlyTheController", func(t *testing.T) {
		rec, err := New(Config{Stack: s, Docker: d.Client, Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := rec.Reconcile(ctx)
		if err == nil || !strings.Contains(err.Error(), "secret simswarm_api-token does not exist") {
			t.Errorf("want a missing-secret error, got %v", err)
		}
		if len(res.Created) != 2+5 || slices.Contains(res.Created, "service/simswarm_controller") {
			t.Errorf("created %v: want everything but the controller", res.Created)
		}
	})
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "simswarm_api-token"}, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}

	t.Run("FollowerWritesNothing", func(t *testing.T) {
		var leading atomic.Bool
		docker := &countingDocker{Docker: d.Client}
		rec, err := New(Config{Stack: s, Docker: docker, Events: d.Client, Logger: zaptest.NewLogger(t),
			Leading: leading.Load, Resync: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- rec.Run(rctx) }()
		defer func() { cancel(); <-done }()
		// Events and several resync periods while following.
		nodeUpdate(t, d, "--label-add", "poke=1", d.NodeID)
		time.Sleep(500 * time.Millisecond)
		if w := docker.take(); len(w) != 0 || rec.Passes() != 0 {
			t.Fatalf("follower made %d passes and wrote %v", rec.Passes(), w)
		}
		leading.Store(true)
		took := eventually(t, 10*time.Second, "new leader converges", func() (bool, string) {
			svcs, _ := d.Client.ServiceList(ctx, swarm.ServiceListOptions{})
			return len(svcs) == 6, fmt.Sprint(len(svcs), " services")
		})
		t.Logf("converged %v after becoming leader", took)
	})

	t.Run("UpdateRetriesOutOfSequence", func(t *testing.T) {
		fake := &outOfSequence{Docker: d.Client}
		rec, err := New(Config{Stack: s, Docker: fake, Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "converged", func() (bool, string) {
			res, err := rec.Reconcile(ctx)
			return err == nil && res.Writes() == 0, fmt.Sprint(res, err)
		})
		d.CLI(t, "service", "update", "--detach", "--no-resolve-image", "--env-add", "X=1", "simswarm_redis")
		res, err := rec.Reconcile(ctx)
		if err != nil {
			t.Fatalf("update was not retried: %v", err)
		}
		if !fake.failed || !slices.Equal(res.Updated, []string{"service/simswarm_redis"}) {
			t.Errorf("updated %v (injected failure used: %v)", res.Updated, fake.failed)
		}
	})
}

// nodeUpdate runs `docker node update ARGS...`, retrying while the swarm
// reports the node's version moved under it ("update out of sequence": the
// manager updates node status on its own, e.g. right after start).
func nodeUpdate(t *testing.T, d *dockertest.Daemon, args ...string) {
	t.Helper()
	eventually(t, 15*time.Second, "docker node update "+strings.Join(args, " "), func() (bool, string) {
		out, err := d.TryCLI(nil, append([]string{"node", "update"}, args...)...)
		return err == nil, out
	})
}
