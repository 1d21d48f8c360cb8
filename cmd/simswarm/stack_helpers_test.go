package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/stack"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
)

// stackConverged reports whether every service of the stack is present,
// in sync with its spec and running (replicated ones at their count), with
// what is missing otherwise (logServicesOnFailure adds the logs).
func stackConverged(t *testing.T, d *dockertest.Daemon, s *api.Stack) func() (bool, string) {
	return func() (bool, string) {
		st, err := stack.Status(context.Background(), d.Client, s)
		if err != nil {
			return false, err.Error()
		}
		var bad []string
		for _, x := range st {
			if !x.Present || !x.InSync || x.Running == 0 || x.Mode == "replicated" && uint64(x.Running) != x.Desired {
				bad = append(bad, fmt.Sprintf("%s present=%v sync=%v running=%d/%d", x.Name, x.Present, x.InSync, x.Running, x.Desired))
			}
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	}
}

// logServicesOnFailure writes the log tails of the given services to the
// test log if the test fails (before the private daemon is torn down).
func logServicesOnFailure(t *testing.T, d *dockertest.Daemon, services ...string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, svc := range services {
			t.Logf("--- %s logs ---\n%s", svc, serviceLogs(d, svc))
		}
	})
}

// serviceLogs is the tail of a service's log (all its tasks).
func serviceLogs(d *dockertest.Daemon, service string) string {
	out, _ := d.TryCLI(nil, "service", "logs", "--raw", "--tail", "200", service)
	return out
}

// controllerLogs is the tail of the controller service's logs, for failure
// messages.
func controllerLogs(t *testing.T, d *dockertest.Daemon) string {
	out, _ := d.TryCLI(nil, "service", "logs", "--tail", "15", "--raw", "simswarm_controller")
	return "controller logs: " + out
}

// importStackImages imports into d the images of the stack's own services
// that the tests deploy: this simswarm as the controller, FerretDB as
// mongo and the host's redis-server (the worker image is each test's).
func importStackImages(t *testing.T, d *dockertest.Daemon) {
	t.Helper()
	d.ImportGoImage(t, "simswarm-test/simswarm:1", "github.com/simswarm/simswarm/cmd/simswarm")
	d.ImportGoImage(t, "simswarm-test/mongo:1", "github.com/simswarm/simswarm/test/dockerd/ferretapp")
	d.ImportHostBinaries(t, "simswarm-test/redis:1", "/usr/bin/redis-server")
}

// deployStack deploys with `simswarm stack deploy` (DOCKER_HOST set to d)
// the stack of importStackImages' images and workerImage, with no CPU
// reserve on the manager and the controller's API published on port, and
// returns it with the API token deploy printed.
func deployStack(t *testing.T, d *dockertest.Daemon, workerImage string, port int) (*api.Stack, string) {
	t.Helper()
	stackFile := filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(stackFile, []byte(fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Stack
metadata: {name: simswarm}
spec:
  images: {controller: simswarm-test/simswarm:1, worker: %s, redis: simswarm-test/redis:1, mongo: simswarm-test/mongo:1}
  manager: {cpuReserve: 0}
  controller: {port: %d, dockerSocket: %s}
`, workerImage, port, strings.TrimPrefix(d.Host, "unix://"))), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := api.LoadStackFile(stackFile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runStackCLI(t, "stack", "deploy", "-f", stackFile)
	if err != nil {
		t.Fatalf("stack deploy: %v\n%s", err, out)
	}
	_, token, ok := strings.Cut(out, "API token (keep it; it is not shown again): ")
	if !ok {
		t.Fatalf("deploy printed no token:\n%s", out)
	}
	return s, strings.TrimSpace(token)
}

// waitForAPI waits until the CLI gets an answer from the API it is pointed
// at (SIMSWARM_SERVER, SIMSWARM_TOKEN).
func waitForAPI(t *testing.T, what string) {
	t.Helper()
	waitFor(t, time.Minute, what, func() (bool, string) {
		out, err := cli(t, "get", "campaigns")
		return err == nil, fmt.Sprint(out, err)
	})
}
