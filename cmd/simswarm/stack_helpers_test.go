package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
