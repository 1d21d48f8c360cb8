package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
)

// TestStackDeployControllerCreatesTheRest is the bootstrap end to end on a
// private swarm with real images: the simswarm binary as the controller,
// the host's redis-server, FerretDB as mongo. `simswarm stack deploy`
// creates only the networks, the secret, redis, mongo and the controller;
// the controller, running in its container, takes the leader lease in
// redis and creates builder, runner and distcc through the mounted engine
// socket. Then the controller container is killed: the swarm restarts it,
// it leads again and heals a removed runner service.
func TestStackDeployControllerCreatesTheRest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three images and runs a whole stack")
	}
	d := dockertest.Start(t)
	d.ImportGoImage(t, stackTestImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	d.ImportGoImage(t, "simswarm-test/simswarm:1", "github.com/simswarm/simswarm/cmd/simswarm")
	d.ImportGoImage(t, "simswarm-test/mongo:1", "github.com/simswarm/simswarm/test/dockerd/ferretapp")
	d.ImportHostBinaries(t, "simswarm-test/redis:1", "/usr/bin/redis-server")
	t.Setenv("DOCKER_HOST", d.Host)

	file := writeStack(t, d, "simswarm")
	s, err := api.LoadStackFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Images.Controller = "simswarm-test/simswarm:1"
	s.Spec.Images.Redis = "simswarm-test/redis:1"
	s.Spec.Images.Mongo = "simswarm-test/mongo:1"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	manifest := strings.Replace(string(data), "images: {controller: "+stackTestImage+",", "images: {controller: simswarm-test/simswarm:1,", 1)
	manifest = strings.Replace(manifest, "redis: "+stackTestImage+", mongo: "+stackTestImage, "redis: simswarm-test/redis:1, mongo: simswarm-test/mongo:1", 1)
	file = filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if loaded, err := api.LoadStackFile(file); err != nil || loaded.Spec.Images != s.Spec.Images {
		t.Fatalf("stack manifest: %v %+v", err, loaded)
	}

	start := time.Now()
	out, err := runStackCLI(t, "stack", "deploy", "-f", file)
	if err != nil {
		t.Fatalf("stack deploy: %v\n%s", err, out)
	}
	ctx := context.Background()
	converged := func() (bool, string) {
		st, err := stack.Status(ctx, d.Client, s)
		if err != nil {
			return false, err.Error()
		}
		var bad []string
		for _, x := range st {
			if !x.Present || !x.InSync || x.Running == 0 || x.Mode == "replicated" && uint64(x.Running) != x.Desired {
				bad = append(bad, fmt.Sprintf("%s present=%v sync=%v running=%d/%d", x.Name, x.Present, x.InSync, x.Running, x.Desired))
			}
		}
		if len(bad) > 0 {
			bad = append(bad, controllerLogs(t, d))
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	}
	waitFor(t, 2*time.Minute, "controller created and converged the rest of the stack", converged)
	t.Logf("MEASURE stack deploy -> all services converged (controller-driven): %v", time.Since(start))

	// The API answers on the one published port (host mode, on the
	// manager) with the token deploy generated.
	_, token, ok := strings.Cut(out, "API token (keep it; it is not shown again): ")
	if !ok {
		t.Fatalf("deploy printed no token:\n%s", out)
	}
	t.Setenv("SIMSWARM_SERVER", fmt.Sprintf("http://127.0.0.1:%d", s.Spec.Controller.Port))
	t.Setenv("SIMSWARM_TOKEN", strings.TrimSpace(token))
	waitFor(t, 30*time.Second, "controller API on the published port", func() (bool, string) {
		out, err := runStackCLI(t, "get", "campaigns")
		return err == nil, fmt.Sprint(out, err)
	})
	t.Setenv("SIMSWARM_TOKEN", "wrong")
	if out, err := runStackCLI(t, "get", "campaigns"); err == nil {
		t.Errorf("the API accepted a wrong token:\n%s", out)
	}

	// Kill the controller's container: the swarm restarts it.
	cs, err := d.Client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+stackspec.ObjectName(s, stackspec.Controller)))})
	if err != nil || len(cs) != 1 {
		t.Fatalf("controller containers: %v %d", err, len(cs))
	}
	killed := cs[0].ID
	start = time.Now()
	if err := d.Client.ContainerKill(ctx, killed, "KILL"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "controller restarted by the swarm", func() (bool, string) {
		cs, err := d.Client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", "com.docker.swarm.service.name="+stackspec.ObjectName(s, stackspec.Controller)))})
		return err == nil && len(cs) == 1 && cs[0].ID != killed && cs[0].State == "running", fmt.Sprint(len(cs), " running controller containers")
	})
	t.Logf("MEASURE controller container killed -> running again: %v", time.Since(start))
	runner := stackspec.ObjectName(s, stackspec.Runner)
	old, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := d.Client.ServiceRemove(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	// The restarted controller must first win the lease the killed one
	// never released (lease duration 15s by default).
	waitFor(t, time.Minute, "restarted controller recreated the runner service", func() (bool, string) {
		cur, _, err := d.Client.ServiceInspectWithRaw(ctx, runner, swarm.ServiceInspectOptions{})
		return err == nil && cur.ID != old.ID, controllerLogs(t, d)
	})
	t.Logf("MEASURE runner removed after controller restart -> recreated by the new leader: %v", time.Since(start))
}

// controllerLogs is the tail of the controller service's logs, for failure
// messages.
func controllerLogs(t *testing.T, d *dockertest.Daemon) string {
	out, _ := d.TryCLI(nil, "service", "logs", "--tail", "15", "--raw", "simswarm_controller")
	return "controller logs: " + out
}
