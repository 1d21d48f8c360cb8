package dockertest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// TestPrivateSwarmRunsTasksAndCleansUp starts the private engine, runs a
// global service from an imported image on an overlay network, and checks
// that the task runs with an overlay address; a second (cleanup) phase
// checks that nothing of the engine is left.
func TestPrivateSwarmRunsTasksAndCleansUp(t *testing.T) {
	var dir, bridge string
	t.Run("swarm", func(t *testing.T) {
		start := time.Now()
		d := Start(t)
		t.Logf("dockerd + swarm init took %v", time.Since(start))
		if info, err := d.Client.Info(context.Background()); err != nil || info.Driver != storageDriver() {
			t.Errorf("storage driver %q (%v), want %q", info.Driver, err, storageDriver())
		}
		dir, bridge = d.Dir, d.gwBridge
		d.ImportGoImage(t, "simswarm-test/app:1", "./testapp", "/usr/bin/distccd")
		d.CLI(t, "network", "create", "-d", "overlay", "--attachable", "testnet")
		d.CLI(t, "service", "create", "--detach", "--no-resolve-image", "--name", "g", "--mode", "global",
			"--endpoint-mode", "dnsrr", "--network", "testnet", "simswarm-test/app:1", "hello")
		d.CLI(t, "service", "create", "--detach", "--no-resolve-image", "--name", "cmd", "--entrypoint", "distccd", "simswarm-test/app:1")
		ctx := context.Background()
		deadline := time.Now().Add(60 * time.Second)
		for {
			tasks, err := d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("desired-state", "running"))})
			if err != nil {
				t.Fatal(err)
			}
			running, addr := 0, ""
			for _, task := range tasks {
				if task.Status.State == swarm.TaskStateRunning {
					running++
				}
				for _, na := range task.NetworksAttachments {
					if na.Network.Spec.Name == "testnet" && len(na.Addresses) > 0 {
						addr = na.Addresses[0]
					}
				}
			}
			if running == 2 && addr != "" {
				t.Logf("tasks running, overlay address %s", addr)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("tasks not running: %s", d.CLI(t, "service", "ps", "--no-trunc", "g", "cmd"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("daemon directory %s left behind (%v)", dir, err)
	}
	if b, err := os.ReadFile("/proc/net/dev"); err == nil && strings.Contains(string(b), bridge+":") {
		t.Errorf("bridge %s left behind", bridge)
	}
}
