package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
)

// multihost is a simswarm stack on a swarm of test hosts, each a network
// namespace with its own engine (test/dockerd StartHosts): h1 the manager,
// the others workers, formed with simswarm cluster local init/join.
type multihost struct {
	hosts  *dockertest.Hosts
	m      *dockertest.Host
	stack  *api.Stack
	server string // the controller's API, forwarded from 127.0.0.1
	token  string
	cl     *client.Client

	lastAway time.Time // apiAway logged the controller's state
}

// mhControllerPort is the controller's published port inside the
// manager's own network namespace (nothing else listens there).
const mhControllerPort = 18080

// startMultihost builds the images on h1, copies the worker image to the
// other hosts, forms the swarm with the simswarm CLI, deploys the stack
// and waits until it has converged on every node.
func startMultihost(t *testing.T, n int) *multihost {
	t.Helper()
	start := time.Now()
	hs := dockertest.StartHosts(t, n)
	m := hs.Hosts[0]
	importStackImages(t, m.Daemon)
	buildWorkerImage(t, m.Daemon, "simswarm-test/worker:1")
	var workers []*dockertest.Daemon
	for _, h := range hs.Hosts[1:] {
		workers = append(workers, h.Daemon)
	}
	// Only runners and distcc run on the workers: the worker image.
	dockertest.CopyImages(t, m.Daemon, []string{"simswarm-test/worker:1"}, workers...)
	t.Logf("MEASURE %d hosts up with images: %v", n, time.Since(start))

	t.Setenv("DOCKER_HOST", m.Host)
	out, err := runStackCLI(t, "cluster", "local", "init", "--advertise-addr", m.Addr.String(),
		"--listen-addr", m.Addr.String()+":2377", "--default-addr-pool", hs.SwarmPool.String(),
		"--default-addr-pool-mask-length", fmt.Sprint(hs.SwarmPoolMaskLen))
	if err != nil {
		t.Fatalf("cluster local init: %v\n%s", err, out)
	}
	_, join, ok := strings.Cut(out, "simswarm cluster local join --token ")
	if !ok {
		t.Fatalf("init printed no join command:\n%s", out)
	}
	f := strings.Fields(join)
	token, managerAddr := f[0], f[1]
	if managerAddr != m.Addr.String()+":2377" {
		t.Errorf("join command names manager %s, want %s:2377", managerAddr, m.Addr)
	}
	for _, h := range hs.Hosts[1:] {
		t.Setenv("DOCKER_HOST", h.Host)
		t.Setenv("SIMSWARM_JOIN_TOKEN", token)
		if out, err := runStackCLI(t, "cluster", "local", "join", "--advertise-addr", h.Addr.String(),
			"--listen-addr", h.Addr.String()+":2377", managerAddr); err != nil {
			t.Fatalf("cluster local join on %s: %v\n%s", h.Name, err, out)
		}
	}
	t.Setenv("DOCKER_HOST", m.Host)
	mh := &multihost{hosts: hs, m: m}
	mh.waitNodes(t, "all nodes ready", n)
	logServicesOnFailure(t, m.Daemon, "simswarm_controller", "simswarm_builder", "simswarm_runner", "simswarm_distcc")

	start = time.Now()
	mh.stack, mh.token = deployStack(t, m.Daemon, "simswarm-test/worker:1", mhControllerPort)
	waitFor(t, 4*time.Minute, "stack converged on every node", stackConverged(t, m.Daemon, mh.stack))
	mh.waitRunnersOn(t, "runners on every node", hs.Hosts...)
	t.Logf("MEASURE stack deploy -> converged on %d nodes: %v", n, time.Since(start))
	mh.server = "http://" + m.Forward(t, fmt.Sprintf("127.0.0.1:%d", mhControllerPort))
	t.Setenv("SIMSWARM_SERVER", mh.server)
	t.Setenv("SIMSWARM_TOKEN", mh.token)
	mh.cl = client.New(mh.server, mh.token)
	waitForAPI(t, "API through the forwarded port")
	return mh
}

// nodes maps hostnames to the manager's view of them.
func (mh *multihost) nodes(t *testing.T) map[string]swarm.Node {
	t.Helper()
	list, err := mh.m.Client.NodeList(context.Background(), swarm.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]swarm.Node{}
	for _, n := range list {
		out[n.Description.Hostname] = n
	}
	return out
}

func (mh *multihost) waitNodes(t *testing.T, what string, ready int) {
	t.Helper()
	waitFor(t, 2*time.Minute, what, func() (bool, string) {
		got := 0
		var states []string
		for name, n := range mh.nodes(t) {
			states = append(states, name+"="+string(n.Status.State)+"/"+string(n.Spec.Availability))
			if n.Status.State == swarm.NodeStateReady {
				got++
			}
		}
		return got == ready, strings.Join(states, " ")
	})
}

// runnerContainers are the hostnames (short container IDs, the prefix of
// a runner's worker name) of the runner containers running on h.
func runnerContainers(h *dockertest.Host) map[string]bool {
	cs, err := h.Client.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name=simswarm_runner"))})
	out := map[string]bool{}
	if err != nil {
		return out
	}
	for _, c := range cs {
		out[c.ID[:12]] = true
	}
	return out
}

// waitRunnersOn waits until a runner (a global service: one per node)
// runs on every node stackspec grants runner slots, and on each of hosts.
func (mh *multihost) waitRunnersOn(t *testing.T, what string, hosts ...*dockertest.Host) time.Duration {
	t.Helper()
	start := time.Now()
	waitFor(t, 3*time.Minute, what, func() (bool, string) {
		nodes := mh.nodes(t)
		var ns []stackspec.Node
		for _, n := range nodes {
			ns = append(ns, stackspec.NodeFromSwarm(n))
		}
		want := 0
		for _, n := range stackspec.RunnerSlots(mh.stack, ns) {
			if n > 0 {
				want++
			}
		}
		st, err := stack.Status(context.Background(), mh.m.Client, mh.stack)
		if err != nil {
			return false, err.Error()
		}
		for _, s := range st {
			if s.Name != "simswarm_runner" {
				continue
			}
			if s.Running < want {
				return false, fmt.Sprintf("runners %d running, want one on each of the %d nodes with slots", s.Running, want)
			}
		}
		for _, h := range hosts {
			if len(runnerContainers(h)) == 0 {
				return false, "no runner on " + h.Name
			}
		}
		return true, ""
	})
	return time.Since(start)
}

// runs are the campaign's run records.
func (mh *multihost) runs(t *testing.T, campaign string) []schema.RunRecord {
	t.Helper()
	var all []schema.RunRecord
	// The API can be away for a while (the controller's task restarting
	// after a node loss): wait for it, and say so in the log.
	waitFor(t, 3*time.Minute, "run records from the API", func() (bool, string) {
		all = nil
		after := -1
		for {
			list, err := mh.cl.Runs(context.Background(), campaign, "", after, 500)
			if err != nil {
				mh.apiAway(t, "list runs", err)
				time.Sleep(time.Second)
				return false, err.Error()
			}
			all = append(all, list.Items...)
			if list.Next <= after || len(list.Items) == 0 {
				return true, ""
			}
			after = list.Next
		}
	})
	return all
}

// apiAway logs a failed API call and, the first time in a while, what the
// manager's engine says about the controller: its tasks, and the logs of
// every controller container it still has (a replaced or crashed one
// included: a later engine restart removes them).
func (mh *multihost) apiAway(t *testing.T, what string, err error) {
	t.Helper()
	t.Logf("%s (retrying): %v", what, err)
	if time.Since(mh.lastAway) < 30*time.Second {
		return
	}
	mh.lastAway = time.Now()
	ps, _ := mh.m.TryCLI(nil, "service", "ps", "--no-trunc", "--format", "{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}", "simswarm_controller", "simswarm_mongo", "simswarm_redis")
	t.Logf("API away: tasks on the manager:\n%s", ps)
	ids, _ := mh.m.TryCLI(nil, "ps", "-aq", "--filter", "label=com.docker.swarm.service.name=simswarm_controller")
	for _, id := range strings.Fields(ids) {
		st, _ := mh.m.TryCLI(nil, "inspect", "--format", "{{.Name}} {{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}} {{.State.StartedAt}} {{.State.FinishedAt}}", id)
		logs, _ := mh.m.TryCLI(nil, "logs", "--tail", "30", id)
		t.Logf("API away: controller container %s\n%s", st, logs)
	}
}

// apply applies a manifest, waiting for an API that is away for a while.
func (mh *multihost) apply(t *testing.T, manifest string) {
	t.Helper()
	waitFor(t, 3*time.Minute, "apply "+manifest, func() (bool, string) {
		out, err := cli(t, "apply", "-f", manifest)
		if err != nil {
			mh.apiAway(t, "apply", err)
			time.Sleep(time.Second)
		}
		return err == nil, fmt.Sprint(out, err)
	})
}

// exactlyOnce checks that every run of the campaign succeeded with its two
// result files, once each, and returns run -> file IDs.
func (mh *multihost) exactlyOnce(t *testing.T, campaign string, total int) map[int]string {
	t.Helper()
	recs := mh.runs(t, campaign)
	if len(recs) != total {
		t.Fatalf("%s: %d run records, want %d", campaign, len(recs), total)
	}
	files := map[int]string{}
	for _, r := range recs {
		if r.State != schema.RunSucceeded || len(r.Files) != 2 || r.Files[0].Name == r.Files[1].Name {
			t.Errorf("%s run %d: state %s, files %+v", campaign, r.Run, r.State, r.Files)
		}
		files[r.Run] = fmt.Sprint(r.Files)
	}
	return files
}

// longAloha is the aloha model with a config whose runs take a second or
// more, so that a node or a container can be lost while it holds some.
func longAloha(t *testing.T, dir, name, runs string) string {
	t.Helper()
	p := alohaManifest(t, dir, name, "Long", runs)
	// Every phase runs the same model: without this, the campaigns after
	// the first would reuse its results and simulate nothing to lose.
	m, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(m, "  reuse: false\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "model", "omnetpp.ini")
	b, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "\n[Config Long]\nextends = PureAloha\nsim-time-limit = 4000000s\n"...)
	if err := os.WriteFile(ini, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMultihostSwarm is simswarm on three hosts of a real multi-node
// swarm (each host a network namespace with its own engine, so overlay
// traffic crosses VXLAN between them): a campaign whose build compiles
// through distcc on the worker hosts and whose results equal the local
// run; then a worker host lost mid-campaign three ways (engine crash, cut
// cable, drain) and the manager's engine restarted, each time the campaign
// completing with every run's results stored exactly once.
func TestMultihostSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("three engines in network namespaces, real images, several campaigns")
	}
	mh := startMultihost(t, 3)
	ctx := context.Background()

	t.Run("campaign", func(t *testing.T) {
		dir := t.TempDir()
		// Runs of a second or more: the first tasks carry several runs
		// each, and runs of a few milliseconds could all be done by the
		// first runner to ask before another has polled the queue.
		manifest := longAloha(t, dir, "aloha", "0..29")
		start := time.Now()
		mh.apply(t, manifest)
		if out, err := cli(t, "wait", "aloha", "--timeout", "6m"); err != nil {
			t.Fatalf("wait: %v\n%s\n%s", err, out, controllerLogs(t, mh.m.Daemon))
		}
		t.Logf("MEASURE 3 nodes: apply -> 30-run campaign complete: %v", time.Since(start))
		mh.exactlyOnce(t, "aloha", 30)
		// Runs were carried out on every host.
		byHost := map[string]int{}
		owners := map[string]string{}
		for _, h := range mh.hosts.Hosts {
			for c := range runnerContainers(h) {
				owners[c] = h.Name
			}
		}
		for _, r := range mh.runs(t, "aloha") {
			byHost[owners[strings.SplitN(r.Worker, "-", 2)[0]]]++
		}
		t.Logf("runs per host: %v", byHost)
		for _, h := range mh.hosts.Hosts {
			if byHost[h.Name] == 0 {
				t.Errorf("no run was carried out on %s: %v", h.Name, byHost)
			}
		}
		pullEqualsLocalRun(t, "aloha", manifest, filepath.Join(dir, "pulled"), 60)

		// The distcc daemons on the worker hosts served compile jobs.
		served := map[string]int{}
		for _, h := range mh.hosts.Hosts {
			served[h.Name] = distccServed(t, h)
		}
		t.Logf("compile jobs served by distccd per host: %v", served)
		if served["h2"]+served["h3"] == 0 {
			t.Errorf("distccd on the worker hosts served no compile job: %v", served)
		}

		// The dashboard's swarm page lists the three nodes with their tasks.
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		login, err := noRedirect.PostForm(mh.server+"/ui/login", url.Values{"token": {mh.token}})
		if err != nil {
			t.Fatal(err)
		}
		login.Body.Close()
		if len(login.Cookies()) != 1 {
			t.Fatalf("dashboard login: %s, cookies %v", login.Status, login.Cookies())
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", mh.server+"/ui/api/swarm", nil)
		req.AddCookie(login.Cookies()[0])
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var page dashboard.SwarmPage
		if err := json.Unmarshal(body, &page); err != nil || page.Observation == nil {
			t.Fatalf("swarm page: %s: %v\n%s", resp.Status, err, body)
		}
		obs := page.Observation
		nodeTasks := map[string]map[string]int{}
		hostOf := map[string]string{}
		for _, n := range obs.Nodes {
			hostOf[n.ID] = n.Hostname
			nodeTasks[n.Hostname] = map[string]int{}
		}
		for _, task := range obs.Tasks {
			if task.State == "running" {
				nodeTasks[hostOf[task.NodeID]][task.Service]++
			}
		}
		t.Logf("dashboard: running tasks per node: %v", nodeTasks)
		for _, h := range mh.hosts.Hosts {
			if nodeTasks[h.Name]["simswarm_runner"] == 0 || nodeTasks[h.Name]["simswarm_distcc"] != 1 {
				t.Errorf("dashboard swarm page: node %s has tasks %v, want runners and one distcc", h.Name, nodeTasks[h.Name])
			}
		}
		if nodeTasks["h1"]["simswarm_controller"] != 1 {
			t.Errorf("dashboard swarm page: no controller task on the manager: %v", nodeTasks["h1"])
		}
	})

	victim := mh.hosts.Hosts[1]
	t.Run("partition", func(t *testing.T) {
		mh.nodeLoss(t, "partition", victim, func() { victim.LinkDown(t) }, func() { victim.LinkUp(t) })
	})
	t.Run("drain", func(t *testing.T) {
		var id string
		for _, n := range mh.nodes(t) {
			if n.Description.Hostname == victim.Name {
				id = n.ID
			}
		}
		mh.nodeLoss(t, "drain", victim, func() { mh.m.CLI(t, "node", "update", "--availability", "drain", id) },
			func() { mh.m.CLI(t, "node", "update", "--availability", "active", id) })
	})
	crashed := mh.hosts.Hosts[2]
	t.Run("crash", func(t *testing.T) {
		mh.nodeLoss(t, "crash", crashed, func() { crashed.Crash(t) }, func() { crashed.Restart(t) })
	})
	t.Run("manager-restart", func(t *testing.T) {
		dir := t.TempDir()
		manifest := longAloha(t, dir, "manager-restart", "0..29")
		mh.apply(t, manifest)
		waitFor(t, 4*time.Minute, "runs in progress", func() (bool, string) {
			n := 0
			for _, h := range mh.hosts.Hosts {
				n += len(simulating(h))
			}
			return n > 0, "no simulation yet"
		})
		start := time.Now()
		mh.m.Restart(t) // SIGTERM, then the engine starts again on its data
		t.Logf("MEASURE manager engine restart: %v", time.Since(start))
		waitFor(t, 4*time.Minute, "controller answering again", func() (bool, string) {
			out, err := cli(t, "get", "campaigns")
			return err == nil, fmt.Sprint(out, err)
		})
		t.Logf("MEASURE manager engine restarted -> controller answers: %v", time.Since(start))
		if out, err := cli(t, "wait", "manager-restart", "--timeout", "6m"); err != nil {
			t.Fatalf("wait: %v\n%s\n%s", err, out, controllerLogs(t, mh.m.Daemon))
		}
		t.Logf("MEASURE manager engine restarted -> campaign complete: %v", time.Since(start))
		mh.exactlyOnce(t, "manager-restart", 30)
		waitFor(t, 4*time.Minute, "stack converged after the manager's restart", stackConverged(t, mh.m.Daemon, mh.stack))
		mh.waitRunnersOn(t, "runners on every node after the manager's restart", mh.hosts.Hosts...)
		pullEqualsLocalRun(t, "manager-restart", manifest, filepath.Join(dir, "pulled"), 60)
	})

	// For make bench (test/bench/multihost.sh): the same campaign on three
	// nodes and on one (the workers drained); the CPUs are shared, so this
	// measures the overhead of spreading a campaign, not a speed-up.
	// Logged, not asserted: timings on a shared CI machine are noise.
	t.Run("wall-time-1-vs-3-nodes", func(t *testing.T) {
		wall := func(name string) time.Duration {
			dir := t.TempDir()
			manifest := longAloha(t, dir, name, "0..29")
			start := time.Now()
			mh.apply(t, manifest)
			if out, err := cli(t, "wait", name, "--timeout", "10m", "--interval", "200ms"); err != nil {
				t.Fatalf("wait: %v\n%s", err, out)
			}
			took := time.Since(start)
			mh.exactlyOnce(t, name, 30)
			return took
		}
		mh.waitRunnersOn(t, "runners on every node", mh.hosts.Hosts...)
		three := wall("bench-3-nodes")
		for _, h := range mh.hosts.Hosts[1:] {
			mh.m.CLI(t, "node", "update", "--availability", "drain", h.Name)
		}
		mh.waitRunnersOn(t, "runners on the manager only")
		one := wall("bench-1-node")
		t.Logf("MEASURE campaign wall time: 3 nodes %v, 1 node %v, ratio %.2f", three, one, three.Seconds()/one.Seconds())
	})
}

// nodeLoss applies a campaign of long runs, loses the victim host with
// lose while it holds runs, and checks that its runs run again elsewhere
// (timed), that the runner replicas shrink to the remaining nodes, that
// the campaign completes with every result exactly once, and, after
// restore, that the host gets runners again and no late result of its
// lost attempts is stored on top.
func (mh *multihost) nodeLoss(t *testing.T, mode string, victim *dockertest.Host, lose, restore func()) {
	t.Helper()
	campaign := "loss-" + mode
	dir := t.TempDir()
	manifest := longAloha(t, dir, campaign, "0..29")
	mh.apply(t, manifest)
	// Wait until the victim is simulating (its containers' processes say
	// which runs: a run record names its worker only once it is done).
	var held map[int]bool
	waitFor(t, 4*time.Minute, "runs in progress on "+victim.Name, func() (bool, string) {
		held = simulating(victim)
		return len(held) > 0, fmt.Sprint("processes: ", victim.ContainerCommands())
	})
	mine := runnerContainers(victim)
	start := time.Now()
	lose()
	t.Logf("%s: lost %s simulating runs %v", mode, victim.Name, held)
	// Each run it held is simulated again on another host, or done there.
	waitFor(t, 4*time.Minute, "the lost node's runs running elsewhere", func() (bool, string) {
		elsewhere := map[int]bool{}
		for _, h := range mh.hosts.Hosts {
			if h != victim {
				for run := range simulating(h) {
					elsewhere[run] = true
				}
			}
		}
		byRun := map[int]schema.RunRecord{}
		for _, r := range mh.runs(t, campaign) {
			byRun[r.Run] = r
		}
		var waiting []string
		for run := range held {
			// Done counts too: elsewhere, or by the victim itself when it
			// could finish the run (a drained runner's shutdown grace).
			r := byRun[run]
			if !elsewhere[run] && r.State != schema.RunSucceeded {
				waiting = append(waiting, fmt.Sprintf("%d:%s@%s", run, r.State, r.Worker))
			}
		}
		return len(waiting) == 0, strings.Join(waiting, " ")
	})
	t.Logf("MEASURE node loss (%s) -> its runs running elsewhere: %v", mode, time.Since(start))
	for _, r := range mh.runs(t, campaign) {
		if held[r.Run] && r.State == schema.RunSucceeded && mine[strings.SplitN(r.Worker, "-", 2)[0]] {
			t.Logf("%s: run %d was finished by %s itself", mode, r.Run, victim.Name)
		}
	}
	mh.waitRunnersOn(t, "runners on the remaining nodes")
	t.Logf("MEASURE node loss (%s) -> runners on the remaining nodes: %v", mode, time.Since(start))
	if out, err := cli(t, "wait", campaign, "--timeout", "6m"); err != nil {
		t.Fatalf("wait: %v\n%s\n%s", err, out, controllerLogs(t, mh.m.Daemon))
	}
	t.Logf("MEASURE node loss (%s) -> campaign complete: %v", mode, time.Since(start))
	before := mh.exactlyOnce(t, campaign, 30)

	start = time.Now()
	restore()
	mh.waitNodes(t, victim.Name+" ready again", len(mh.hosts.Hosts))
	waitFor(t, 2*time.Minute, "distcc running on "+victim.Name+" again", func() (bool, string) {
		cs, err := victim.Client.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", "com.docker.swarm.service.name=simswarm_distcc"))})
		return err == nil && len(cs) == 1, fmt.Sprint(len(cs), err)
	})
	// After a crash, swarm's scheduler may have given up on the runner
	// tasks meant for the returning node (moby/moby#53722); the stack
	// reconciler nudges them (controller/stack pending.go), within its
	// StuckGrace (30 s) plus a pass.
	took := mh.waitRunnersOn(t, victim.Name+" back with runners", mh.hosts.Hosts...)
	t.Logf("MEASURE %s back (%s) -> runners on it again: %v", victim.Name, mode, took)
	// Whatever the returning host still had in flight finishes or is
	// stopped now; give late results time to arrive, then nothing changed.
	time.Sleep(10 * time.Second)
	after := mh.exactlyOnce(t, campaign, 30)
	for run, f := range before {
		if after[run] != f {
			t.Errorf("%s run %d: results changed after the lost host came back:\n%s\n%s", mode, run, f, after[run])
		}
	}
	pullEqualsLocalRun(t, campaign, manifest, filepath.Join(dir, "pulled"), 60)
}

// simulating is the set of runs the aloha processes in h's containers
// simulate (their -r argument).
func simulating(h *dockertest.Host) map[int]bool {
	out := map[int]bool{}
	for _, argv := range h.ContainerCommands() {
		if len(argv) == 0 || filepath.Base(argv[0]) != "aloha" {
			continue
		}
		for i := 1; i+1 < len(argv); i++ {
			if argv[i] != "-r" {
				continue
			}
			// A task of several runs is one process of them all ("-r 3,4,5").
			for _, r := range strings.Split(argv[i+1], ",") {
				if n, err := strconv.Atoi(r); err == nil {
					out[n] = true
				}
			}
		}
	}
	return out
}

// distccServed counts the compile jobs the distccd on h reports served.
func distccServed(t *testing.T, h *dockertest.Host) int {
	ctx := context.Background()
	cs, err := h.Client.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name=simswarm_distcc"))})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		rc, err := h.Client.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		n += strings.Count(string(b), "COMPILE_OK")
	}
	return n
}
