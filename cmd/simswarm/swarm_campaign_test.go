package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/freeport"
)

// workerToolchain is the toolchain of the test worker image: what the
// aloha model needs to build (and what distccd needs to compile for the
// builder). The same package set as controller/stack's distcc test, so the
// debootstrapped root file system is built once per machine for both.
var workerToolchain = []string{"distcc", "gcc", "libc6-dev", "make"}

// buildSimswarmBinary builds the static simswarm binary into a fresh
// directory (a Docker build context, as `make build` leaves bin/).
func buildSimswarmBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "simswarm"), "github.com/simswarm/simswarm/cmd/simswarm")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// buildWorkerImage builds the production worker.Dockerfile on a Debian
// toolchain image (debootstrapped, with gcc, make and distcc already in it,
// so the Dockerfile installs nothing and needs no network).
func buildWorkerImage(t *testing.T, d *dockertest.Daemon, ref string) {
	t.Helper()
	d.ImportDebianImage(t, "simswarm-test/toolchain:1", workerToolchain)
	dockerfile, err := filepath.Abs("worker.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_BUILDKIT", "0") // BuildKit is not part of Debian's docker.io
	d.CLI(t, "build", "-q", "-f", dockerfile, "--build-arg", "TOOLCHAIN_IMAGE=simswarm-test/toolchain:1", "-t", ref, buildSimswarmBinary(t))
}

// TestAlohaCampaignOnSwarm is the whole system on a real swarm: `stack
// deploy` with real images (simswarm as controller, the worker image built
// from worker.Dockerfile as builder, runners and distcc, redis-server,
// FerretDB as mongo); the controller creates the rest; the aloha campaign
// is applied through the published API port; the builder compiles through
// the distcc service; mid-campaign every runner container and the
// controller container are killed. The campaign still completes, every
// run's result files are there exactly once, and they equal byte for byte
// what `simswarm run` produces on this machine. The restarted controller
// then heals a removed runner service; a wrong token is refused.
func TestAlohaCampaignOnSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images and runs a campaign on a private swarm")
	}
	d := dockertest.Start(t)
	importStackImages(t, d)
	buildWorkerImage(t, d, "simswarm-test/worker:1")
	t.Setenv("DOCKER_HOST", d.Host)
	logServicesOnFailure(t, d, "simswarm_controller", "simswarm_builder", "simswarm_runner", "simswarm_distcc", "simswarm_mongo")

	port := freeport.Port(t)
	// One runner with two slots on this two-core node: the manager keeps
	// no reserve.
	start := time.Now()
	s, token := deployStack(t, d, "simswarm-test/worker:1", port)
	waitFor(t, 3*time.Minute, "stack converged with real images", stackConverged(t, d, s))
	t.Logf("MEASURE stack deploy -> converged with real images: %v", time.Since(start))
	server := fmt.Sprintf("http://127.0.0.1:%d", port)
	t.Setenv("SIMSWARM_SERVER", server)
	t.Setenv("SIMSWARM_TOKEN", token)
	waitForAPI(t, "API on the published port")
	t.Setenv("SIMSWARM_TOKEN", "wrong")
	if out, err := cli(t, "get", "campaigns"); err == nil {
		t.Errorf("the API accepted a wrong token:\n%s", out)
	}
	t.Setenv("SIMSWARM_TOKEN", token)

	dir := t.TempDir()
	// Runs of a second or more: the runners must be killed while they hold
	// some (the default config's 12 runs all finished, batched, before the
	// status showed one running).
	manifest := longAloha(t, dir, "aloha", "0..11")
	start = time.Now()
	mustCLI(t, "apply", "-f", manifest)
	cl := client.New(server, token)
	ctx := context.Background()

	// Wait until runs are being carried out, then kill every runner
	// container and the controller's: what they held must be redelivered.
	waitFor(t, 4*time.Minute, "runs in progress on the runners", func() (bool, string) {
		c, err := cl.Get(ctx, "aloha")
		if err != nil {
			return false, err.Error()
		}
		st := c.Status
		return st.Runs.Running > 0 && st.Runs.Succeeded < st.Runs.Total/2, fmt.Sprintf("%+v build %+v", st.Runs, st.Build)
	})
	t.Logf("MEASURE apply -> first runs running (build through distcc included): %v", time.Since(start))
	killed := 0
	for _, svc := range []string{stackspec.ObjectName(s, stackspec.Runner), stackspec.ObjectName(s, stackspec.Controller)} {
		cs, err := d.Client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", "com.docker.swarm.service.name="+svc))})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if err := d.Client.ContainerKill(ctx, c.ID, "KILL"); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed < 2 {
		t.Fatalf("killed %d containers, want the node's runner and the controller", killed)
	}

	if out, err := cli(t, "wait", "aloha", "--timeout", "8m"); err != nil {
		t.Fatalf("wait after killing runners and controller: %v\n%s\n%s", err, out, controllerLogs(t, d))
	}
	t.Logf("MEASURE apply -> campaign complete (with runners and controller killed mid-run): %v", time.Since(start))

	// Every run has its two files exactly once, and at least one run was
	// carried out again after its runner died.
	redone := 0
	list, err := cl.Runs(ctx, "aloha", "", -1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 12 {
		t.Fatalf("%d run records, want 12", len(list.Items))
	}
	for _, r := range list.Items {
		if r.State != schema.RunSucceeded || len(r.Files) != 2 || r.Files[0].Name == r.Files[1].Name {
			t.Errorf("run %d: state %s, files %+v", r.Run, r.State, r.Files)
		}
		if r.Attempts > 1 {
			redone++
		}
	}
	if redone == 0 {
		t.Errorf("no run needed a second attempt, so the kill tested nothing")
	}
	pullEqualsLocalRun(t, "aloha", manifest, filepath.Join(dir, "pulled"), 24)

	// The restarted controller leads again and heals the stack: a removed
	// runner service is recreated.
	runner := stackspec.ObjectName(s, stackspec.Runner)
	old, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := d.Client.ServiceRemove(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "restarted controller recreated the runner service", func() (bool, string) {
		cur, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
		return err == nil && cur.ID != old.ID, fmt.Sprint("runner service not recreated yet: ", err)
	})
	t.Logf("MEASURE runner service removed -> recreated by the restarted controller: %v", time.Since(start))

	// The build went through the distcc service: its daemons report the
	// compile jobs they served (the model has five sources).
	logs := serviceLogs(d, stackspec.ObjectName(s, stackspec.Distcc))
	if n := strings.Count(logs, "COMPILE_OK"); n < 5 {
		t.Errorf("the distcc service served %d compile jobs, want the model's 5:\n%s", n, logs)
	}
}
