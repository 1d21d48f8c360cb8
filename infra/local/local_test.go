package local

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/freeport"
)

func freeUDPPort(t *testing.T) uint32 {
	t.Helper()
	for p := 21000; p < 49000; p += 97 {
		c, err := net.ListenPacket("udp", ":"+strconv.Itoa(p))
		if err == nil {
			c.Close()
			return uint32(p)
		}
	}
	t.Fatal("no free UDP port")
	return 0
}

// TestClusterLocalInitAndJoin: init makes a fresh engine a manager and
// returns a join command that works; a second engine joins with it; both
// steps are no-ops when repeated. Two private dockerds (test/dockerd),
// taken out of the swarm the harness gives them.
func TestClusterLocalInitAndJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two private dockerds")
	}
	m := dockertest.Start(t)
	m.Leave(t)
	w := dockertest.Start(t)
	w.Leave(t)
	ctx := context.Background()
	addr := freeport.Addr(t)
	res, err := Init(ctx, m.Client, InitOptions{ListenAddr: addr, AdvertiseAddr: addr, DataPathPort: freeUDPPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.ManagerAddr != addr || !strings.HasPrefix(res.WorkerToken, "SWMTKN-1-") {
		t.Fatalf("init: %+v", res)
	}
	if got, want := res.JoinCommand(), "simswarm cluster local join --token "+res.WorkerToken+" "+addr; got != want {
		t.Errorf("join command %q", got)
	}
	again, err := Init(ctx, m.Client, InitOptions{})
	if err != nil || again.Created || again.WorkerToken != res.WorkerToken || again.ManagerAddr != addr || again.NodeID != res.NodeID {
		t.Fatalf("second init: %+v %v", again, err)
	}

	wAddr := freeport.Addr(t)
	j, err := Join(ctx, w.Client, JoinOptions{Manager: res.ManagerAddr, Token: res.WorkerToken, ListenAddr: wAddr, AdvertiseAddr: wAddr})
	if err != nil || j.AlreadyMember || j.NodeID == "" {
		t.Fatalf("join: %+v %v", j, err)
	}
	nodes, err := m.Client.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roles := map[swarm.NodeRole]int{}
	for _, n := range nodes {
		roles[n.Spec.Role]++
	}
	if len(nodes) != 2 || roles[swarm.NodeRoleManager] != 1 || roles[swarm.NodeRoleWorker] != 1 {
		t.Fatalf("nodes after join: %v", roles)
	}
	if j2, err := Join(ctx, w.Client, JoinOptions{Manager: res.ManagerAddr, Token: res.WorkerToken}); err != nil || !j2.AlreadyMember || j2.NodeID != j.NodeID {
		t.Fatalf("second join: %+v %v", j2, err)
	}
	// A worker cannot init.
	if _, err := Init(ctx, w.Client, InitOptions{}); err == nil || !strings.Contains(err.Error(), "worker of another swarm") {
		t.Fatalf("init on a worker: %v", err)
	}
}

func TestClusterLocalJoinInputChecks(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.1": "10.0.0.1:2377", "10.0.0.1:2400": "10.0.0.1:2400", "mgr.lab": "mgr.lab:2377"} {
		if got, err := ManagerAddress(in); err != nil || got != want {
			t.Errorf("ManagerAddress(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "10.0.0.1:99999", "a b", "-x;y"} {
		if got, err := ManagerAddress(bad); err == nil {
			t.Errorf("ManagerAddress(%q) = %q", bad, got)
		}
	}
	_, err := Join(context.Background(), nil, JoinOptions{Manager: "10.0.0.1", Token: "hunter2-secret"})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "join token") {
		t.Errorf("bad token: %v", err)
	}
}
