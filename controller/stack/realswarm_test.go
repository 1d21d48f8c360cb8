package stack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
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

// world is one private one-node swarm (and one Redis) shared by the cases
// of TestStackReconcilerOnRealSwarm: an engine costs seconds to start, and
// the machine lock lets one test engine run at a time. The cases share
// nothing else. Each begins with an explicit setup, converged or empty,
// that puts the swarm into that state whatever an earlier case left
// behind (a removed, scaled or tampered service, a relabelled node, a
// rollout in progress), makes the case its own Reconciler and empties
// Redis; so every case runs alone with -run, in any order.
//
// The world also holds objects that are not the stack's (an unlabelled
// service and network, another stack's service): every case checks at its
// end that they are untouched, as the package guarantees.
type world struct {
	d      *dockertest.Daemon
	stack  *api.Stack
	rdb    *redis.Client
	node   swarm.NodeSpec // the node as it started: cases relabel it
	secret string         // the API token secret's name

	bystanderNet string   // network ID
	bystanders   []string // service IDs
}

func newWorld(t *testing.T) *world {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	srv := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	w := &world{d: d, stack: testStack(t, d), rdb: rdb}
	w.secret = stackspec.ObjectName(w.stack, w.stack.Spec.Controller.APITokenSecret)
	ctx := t.Context()
	n, _, err := d.Client.NodeInspectWithRaw(ctx, d.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	w.node = n.Spec

	net, err := d.Client.NetworkCreate(ctx, "othernet", network.CreateOptions{Driver: "overlay", Attachable: true})
	if err != nil {
		t.Fatal(err)
	}
	w.bystanderNet = net.ID
	zero := uint64(0)
	for _, spec := range []swarm.ServiceSpec{
		{Annotations: swarm.Annotations{Name: "bystander"}},
		{Annotations: swarm.Annotations{Name: "other_runner", Labels: map[string]string{stackspec.LabelStack: "other"}}},
	} {
		spec.TaskTemplate = swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: testImage}}
		spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}}
		s, err := d.Client.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.bystanders = append(w.bystanders, s.ID)
	}
	return w
}

// checkBystanders fails t if an object without the stack's label was
// modified or removed.
func (w *world) checkBystanders(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, id := range w.bystanders {
		s, _, err := w.d.Client.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Errorf("service %s gone: %v", id, err)
			continue
		}
		if s.Version.Index != s.Meta.Version.Index || s.UpdatedAt != s.CreatedAt {
			t.Errorf("service %s was modified (created %v, updated %v)", s.Spec.Name, s.CreatedAt, s.UpdatedAt)
		}
	}
	if _, err := w.d.Client.NetworkInspect(ctx, w.bystanderNet, network.InspectOptions{}); err != nil {
		t.Errorf("unlabelled network gone: %v", err)
	}
}

// fixture is one case's view of the world: a fresh Reconciler whose
// Docker writes are counted.
type fixture struct {
	d      *dockertest.Daemon
	stack  *api.Stack
	docker *countingDocker
	rdb    *redis.Client
	rec    *Reconciler
	selfID string
}

// converged sets up a case on a converged stack: every desired service
// and network present and in sync, every task running, no rollout in
// progress, the node as it started, the API token secret present, Redis
// empty. The returned Reconciler has made no pass.
func (w *world) converged(t *testing.T) *fixture {
	t.Helper()
	w.prepare(t, true)
	setup, err := New(Config{Stack: w.stack, Docker: w.d.Client, Logger: zaptest.NewLogger(t).Named("setup")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	start := time.Now()
	var state string
	for {
		res, err := setup.Reconcile(ctx)
		if err == nil && res.Writes() == 0 {
			var ok bool
			ok, state = w.running(ctx)
			if ok {
				break
			}
		} else {
			state = fmt.Sprintf("pass wrote %d (%v)", res.Writes(), err)
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("setup: stack not converged within 2m: %s", state)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("setup: stack converged in %v", time.Since(start).Round(time.Millisecond))
	return w.fixture(t)
}

// empty sets up a case on a swarm without any of the stack's services and
// networks, the node as it started and Redis empty; the API token secret
// exists only withSecret.
func (w *world) empty(t *testing.T, withSecret bool) *fixture {
	t.Helper()
	w.prepare(t, withSecret)
	ctx := t.Context()
	start := time.Now()
	label := filters.NewArgs(filters.Arg("label", stackspec.LabelStack+"="+w.stack.Metadata.Name))
	svcs, err := w.d.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: label})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		if err := w.d.Client.ServiceRemove(ctx, s.ID); err != nil && !cerrdefs.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	// A network stays in use until the removed services' containers are
	// gone; the secret until the controller's is.
	eventually(t, 60*time.Second, "setup: the stack's networks removed", func() (bool, string) {
		nets, err := w.d.Client.NetworkList(ctx, network.ListOptions{Filters: label})
		if err != nil {
			return false, err.Error()
		}
		var left []string
		for _, n := range nets {
			if err := w.d.Client.NetworkRemove(ctx, n.ID); err != nil && !cerrdefs.IsNotFound(err) {
				left = append(left, n.Name+": "+err.Error())
			}
		}
		return len(left) == 0, strings.Join(left, "; ")
	})
	if !withSecret {
		eventually(t, 60*time.Second, "setup: secret "+w.secret+" removed", func() (bool, string) {
			err := w.d.Client.SecretRemove(ctx, w.secret)
			return err == nil || cerrdefs.IsNotFound(err), fmt.Sprint(err)
		})
	}
	svcs, err = w.d.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: label})
	if err != nil {
		t.Fatal(err)
	}
	nets, err := w.d.Client.NetworkList(ctx, network.ListOptions{Filters: label})
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 0 || len(nets) != 0 {
		t.Fatalf("setup: %d services and %d networks of the stack left", len(svcs), len(nets))
	}
	t.Logf("setup: stack emptied in %v", time.Since(start).Round(time.Millisecond))
	return w.fixture(t)
}

// prepare restores what any setup needs: the node's spec, the secret (or
// its absence is left to the caller), and a check of the bystanders when
// the case ends.
func (w *world) prepare(t *testing.T, withSecret bool) {
	t.Helper()
	t.Cleanup(func() { w.checkBystanders(t) })
	ctx := t.Context()
	eventually(t, 15*time.Second, "setup: node spec restored", func() (bool, string) {
		n, _, err := w.d.Client.NodeInspectWithRaw(ctx, w.d.NodeID)
		if err != nil {
			return false, err.Error()
		}
		if n.Spec.Availability == w.node.Availability && n.Spec.Role == w.node.Role && maps.Equal(n.Spec.Labels, w.node.Labels) {
			return true, ""
		}
		// Out of sequence when the manager updated the node meanwhile: retried.
		err = w.d.Client.NodeUpdate(ctx, n.ID, n.Version, w.node)
		return false, fmt.Sprintf("node %+v (update: %v)", n.Spec, err)
	})
	if withSecret {
		if _, _, err := w.d.Client.SecretInspectWithRaw(ctx, w.secret); cerrdefs.IsNotFound(err) {
			_, err = w.d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: w.secret}, Data: []byte("test-token")})
			if err != nil {
				t.Fatal(err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// running reports whether every desired service of the stack is present,
// in sync and running all its tasks, with no rollout in progress.
func (w *world) running(ctx context.Context) (bool, string) {
	st, err := Status(ctx, w.d.Client, w.stack)
	if err != nil {
		return false, err.Error()
	}
	var bad []string
	for _, x := range st {
		if !x.Present || !x.InSync || x.Running == 0 || x.Mode == "replicated" && uint64(x.Running) != x.Desired {
			bad = append(bad, fmt.Sprintf("%s(present %v, in sync %v, running %d of %d)", x.Name, x.Present, x.InSync, x.Running, x.Desired))
		}
	}
	svcs, err := w.d.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", stackspec.LabelStack+"="+w.stack.Metadata.Name))})
	if err != nil {
		return false, err.Error()
	}
	for _, s := range svcs {
		if u := s.UpdateStatus; u != nil && (u.State == swarm.UpdateStateUpdating || u.State == swarm.UpdateStateRollbackStarted) {
			bad = append(bad, s.Spec.Name+" "+string(u.State))
		}
	}
	return len(bad) == 0, strings.Join(bad, ", ")
}

// fixture makes the case's Reconciler and checks Redis is empty.
func (w *world) fixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	if err := w.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := w.rdb.Exists(ctx, schema.DistccHostsKey).Result(); err != nil || n != 0 {
		t.Fatalf("setup: redis not empty (%d, %v)", n, err)
	}
	f := &fixture{d: w.d, stack: w.stack, docker: &countingDocker{Docker: w.d.Client}, rdb: w.rdb, selfID: w.d.NodeID}
	rec, err := New(Config{
		Stack: f.stack, Docker: f.docker, Events: w.d.Client, Hosts: RedisHosts{Client: w.rdb}, Slots: RedisHosts{Client: w.rdb},
		Logger: zaptest.NewLogger(t), Resync: time.Hour, // events, not resyncs, must drive healing
	})
	if err != nil {
		t.Fatal(err)
	}
	f.rec = rec
	return f
}

// run runs the case's Reconciler's event-driven loop until the case ends.
func (f *fixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.rec.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
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

func mustService(t *testing.T, f *fixture, comp string) swarm.Service {
	t.Helper()
	s, ok := f.service(t, comp)
	if !ok {
		t.Fatalf("service %s missing", comp)
	}
	return s
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
