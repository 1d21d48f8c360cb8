package dockertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// TestHostsFormASwarmAndPartition: two test hosts, each with its own
// engine in its own namespace, form a swarm over their own network; a cut
// cable makes the manager see the worker down, plugging it back in brings
// it back; a crashed engine restarts on its data. Afterwards nothing of
// theirs is left on the machine.
func TestHostsFormASwarmAndPartition(t *testing.T) {
	var id string
	// What a crashed run would leave: a namespace and a directory.
	if out, err := exec.Command("ip", "netns", "add", resourcePrefix+"dead-h1").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := os.MkdirAll("/tmp/"+resourcePrefix+"dead/data", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("hosts", func(t *testing.T) {
		hs := StartHosts(t, 2)
		if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), resourcePrefix+"dead") {
			t.Errorf("a crashed run's namespace was not removed:\n%s", out)
		}
		if _, err := os.Stat("/tmp/" + resourcePrefix + "dead"); err == nil {
			t.Errorf("a crashed run's directory was not removed")
		}
		id = hs.id
		m, w := hs.Hosts[0], hs.Hosts[1]
		ctx := context.Background()
		if _, err := m.Client.SwarmInit(ctx, swarm.InitRequest{
			ListenAddr: m.Addr.String() + ":2377", AdvertiseAddr: m.Addr.String(),
			DefaultAddrPool: []string{hs.SwarmPool.String()}, SubnetSize: hs.SwarmPoolMaskLen,
		}); err != nil {
			t.Fatal(err)
		}
		sw, err := m.Client.SwarmInspect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Client.SwarmJoin(ctx, swarm.JoinRequest{
			ListenAddr: w.Addr.String() + ":2377", AdvertiseAddr: w.Addr.String(),
			RemoteAddrs: []string{m.Addr.String() + ":2377"}, JoinToken: sw.JoinTokens.Worker,
		}); err != nil {
			t.Fatal(err)
		}
		state := func() map[string]swarm.NodeState {
			nodes, err := m.Client.NodeList(ctx, swarm.NodeListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			st := map[string]swarm.NodeState{}
			for _, n := range nodes {
				st[n.Description.Hostname] = n.Status.State
			}
			return st
		}
		waitState := func(what string, want swarm.NodeState) time.Duration {
			start := time.Now()
			for time.Since(start) < 90*time.Second {
				st := state()
				if st["h1"] == swarm.NodeStateReady && st["h2"] == want {
					return time.Since(start)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Fatalf("%s: nodes %v", what, state())
			return 0
		}
		waitState("h2 joined", swarm.NodeStateReady)
		w.LinkDown(t)
		t.Logf("MEASURE cable cut -> manager sees the worker down: %v", waitState("cable cut", swarm.NodeStateDown))
		w.LinkUp(t)
		t.Logf("MEASURE cable back -> worker ready: %v", waitState("cable back", swarm.NodeStateReady))
		w.Crash(t)
		waitState("engine crashed", swarm.NodeStateDown)
		w.Restart(t)
		t.Logf("MEASURE crashed engine restarted -> worker ready: %v", waitState("engine restarted", swarm.NodeStateReady))
	})
	out, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(out), resourcePrefix+id) {
		t.Errorf("network namespaces left behind:\n%s", out)
	}
}
