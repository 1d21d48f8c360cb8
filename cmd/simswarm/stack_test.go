package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/freeport"
)

const stackTestImage = "simswarm-test/app:1"

// runStackCLI runs the simswarm command line in-process.
func runStackCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// writeStack writes a Stack manifest whose images are the imported test
// image and whose controller manages the private engine.
func writeStack(t *testing.T, d *dockertest.Daemon, name string) string {
	t.Helper()
	port := freeport.Port(t)
	manifest := fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Stack
metadata:
  name: %s
spec:
  images: {controller: %[2]s, worker: %[2]s, redis: %[2]s, mongo: %[2]s}
  controller:
    port: %d
    dockerSocket: %s
`, name, stackTestImage, port, strings.TrimPrefix(d.Host, "unix://"))
	path := filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v (last state: %s)", what, timeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStackRenderAcceptedByDockerStackDeploy deploys `simswarm stack
// render` output with the real docker CLI (`docker stack deploy`), checks
// that every service comes up with simswarm's labels, and that the
// reconciler then adopts the deployed stack instead of duplicating it.
func TestStackRenderAcceptedByDockerStackDeploy(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, stackTestImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	file := writeStack(t, d, "rendered")
	compose, err := runStackCLI(t, "stack", "render", "-f", file, "--node", "manager:2")
	if err != nil {
		t.Fatalf("stack render: %v\n%s", err, compose)
	}
	ctx := context.Background()
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "rendered_api-token"}, Data: []byte("t")}); err != nil {
		t.Fatal(err)
	}
	out, err := d.TryCLI([]byte(compose), "stack", "deploy", "--resolve-image", "never", "-c", "-", "rendered")
	if err != nil {
		t.Fatalf("docker stack deploy refused the rendered compose file: %v\n%s\n--- compose ---\n%s", err, out, compose)
	}
	s, err := api.LoadStackFile(file)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "rendered stack running", func() (bool, string) {
		st, err := stack.Status(ctx, d.Client, s)
		if err != nil {
			return false, err.Error()
		}
		var bad []string
		for _, x := range st {
			if !x.Present || x.Running == 0 {
				bad = append(bad, fmt.Sprintf("%s present=%v running=%d", x.Name, x.Present, x.Running))
			}
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	})
	svcs, err := d.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", stackspec.LabelStack+"=rendered"))})
	if err != nil || len(svcs) != 6 {
		t.Fatalf("%d labelled services (%v)", len(svcs), err)
	}
	for _, svc := range svcs {
		if svc.Spec.Labels[stackspec.LabelSpecHash] == "" || svc.Spec.EndpointSpec == nil || svc.Spec.EndpointSpec.Mode != swarm.ResolutionModeDNSRR {
			t.Errorf("%s: labels %v endpoint %+v", svc.Spec.Name, svc.Spec.Labels, svc.Spec.EndpointSpec)
		}
	}

	// The controller adopts what docker stack deploy created: same names,
	// same labels; nothing new is created.
	rec, err := stack.New(stack.Config{Stack: s, Docker: d.Client})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rec.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 0 || len(res.Removed) != 0 {
		t.Errorf("reconciling a compose-deployed stack created %v, removed %v", res.Created, res.Removed)
	}
	t.Logf("adoption pass updated %v (compose adds its namespace labels)", res.Updated)
	if res, err := rec.Reconcile(ctx); err != nil || res.Writes() != 0 {
		t.Errorf("second pass after adoption: %+v, %v", res, err)
	}
}

// TestStackCommandsDeployStatusRm drives the bootstrap commands against the
// private engine through DOCKER_HOST, as a user on a manager would.
func TestStackCommandsDeployStatusRm(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, stackTestImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	t.Setenv("DOCKER_HOST", d.Host)
	file := writeStack(t, d, "simswarm")

	out, err := runStackCLI(t, "stack", "deploy", "-f", file)
	if err != nil {
		t.Fatalf("stack deploy: %v\n%s", err, out)
	}
	for _, want := range []string{"created network/simswarm_interlink", "created network/simswarm_buildnet", "created service/simswarm_controller", "created service/simswarm_redis", "created service/simswarm_mongo", "created secret simswarm_api-token", "API token"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, out)
		}
	}
	out, err = runStackCLI(t, "stack", "status", "-f", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "simswarm_controller") || !strings.Contains(out, "simswarm_runner") || !strings.Contains(out, "missing") {
		t.Errorf("status after bootstrap (controller and stores only):\n%s", out)
	}
	if out, err := runStackCLI(t, "stack", "deploy", "-f", file, "--all"); err != nil || strings.Contains(out, "API token") {
		t.Fatalf("stack deploy --all: %v\n%s", err, out)
	}
	waitFor(t, 60*time.Second, "status shows every service running and in sync", func() (bool, string) {
		out, err := runStackCLI(t, "stack", "status", "-f", file)
		if err != nil {
			return false, err.Error()
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, l := range lines[1:] {
			if !strings.Contains(l, "in sync") || strings.Contains(l, " 0/") || strings.Contains(l, "global    0") {
				return false, out
			}
		}
		return len(lines) == 7, out
	})
	out, err = runStackCLI(t, "stack", "rm", "-f", file)
	if err != nil {
		t.Fatalf("stack rm: %v\n%s", err, out)
	}
	if !strings.Contains(out, "removed service/simswarm_mongo") || strings.Contains(out, "volume/") {
		t.Errorf("rm output:\n%s", out)
	}
	if _, err := d.Client.VolumeInspect(context.Background(), "simswarm_mongo-data"); err != nil {
		t.Errorf("stack rm without --volumes removed the mongo volume: %v", err)
	}
	out, err = runStackCLI(t, "stack", "rm", "-f", file, "--volumes")
	if err != nil || !strings.Contains(out, "removed volume/simswarm_mongo-data") {
		t.Errorf("stack rm --volumes: %v\n%s", err, out)
	}
	if _, err := runStackCLI(t, "stack", "render", "--node", "boss:3"); err == nil {
		t.Error("a bad --node was accepted")
	}
}
