package dockertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Hosts is a private network of test hosts on this machine: a "switch"
// network namespace holding a bridge, and per host a network namespace
// joined to the bridge by a veth pair, with its own address and its own
// dockerd. Nothing is attached to this machine's own interfaces, so test
// traffic stays between the namespaces Hosts made.
type Hosts struct {
	// Hosts are the test hosts, in order h1, h2, ...
	Hosts []*Host
	// Subnet is the hosts' network (their addresses are .1, .2, ...).
	Subnet netip.Prefix
	// SwarmPool is the address range for the swarm's overlay networks
	// (swarm init --default-addr-pool), SwarmPoolMaskLen their size.
	SwarmPool        netip.Prefix
	SwarmPoolMaskLen uint32

	id       string // short random id in every name Hosts makes
	switchNS string
}

// Host is one test host: a network namespace with a dockerd in it.
type Host struct {
	*Daemon
	// Name is the host's name and swarm node hostname (h1, h2, ...).
	Name string
	// NS is its network namespace (ip netns exec NS ...).
	NS string
	// Addr is its address on the hosts' network.
	Addr netip.Addr

	switchNS   string
	switchLink string // the veth end in the switch namespace
}

// resourcePrefix starts the name of every namespace, cgroup and directory
// Hosts makes, so that leftovers of a crashed run are found by name.
const resourcePrefix = "ssmh"

// StartHosts makes n test hosts, each running its own dockerd (not yet in
// a swarm). Everything is torn down when the test ends, also on failure;
// leftovers of an earlier run that crashed are removed first.
func StartHosts(t testing.TB, n int) *Hosts {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("test hosts need root")
	}
	for _, bin := range []string{"ip", "unshare"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not installed (make deps): %v", bin, err)
		}
	}
	// Held across every engine of the hosts: no other test process starts
	// a daemon (or cleans leftovers) meanwhile.
	release := acquireMachineLock(t)
	t.Cleanup(release)
	removeLeftovers(t)

	block, err := freeBlock()
	if err != nil {
		t.Fatal(err)
	}
	b := block.Addr().As4()
	hs := &Hosts{
		Subnet:           netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], 0, 0}), 24),
		SwarmPool:        netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], 128, 0}), 17),
		SwarmPoolMaskLen: 24,
		id:               randHex(3),
	}
	localPool := netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], 64, 0}), 18)
	hs.switchNS = resourcePrefix + hs.id + "-sw"
	t.Cleanup(func() { hs.teardown(t) })
	mustIP(t, "netns", "add", hs.switchNS)
	mustIP(t, "-n", hs.switchNS, "link", "add", "br0", "type", "bridge")
	mustIP(t, "-n", hs.switchNS, "link", "set", "br0", "up")
	for i := 1; i <= n; i++ {
		name := "h" + strconv.Itoa(i)
		h := &Host{
			Name:       name,
			NS:         resourcePrefix + hs.id + "-" + name,
			Addr:       netip.AddrFrom4([4]byte{b[0], b[1], 0, byte(i)}),
			switchNS:   hs.switchNS,
			switchLink: "p" + name,
		}
		mustIP(t, "netns", "add", h.NS)
		mustIP(t, "-n", h.NS, "link", "set", "lo", "up")
		// Made in the switch namespace, one end moved to the host's: the
		// machine's own namespace never holds either end.
		mustIP(t, "-n", hs.switchNS, "link", "add", h.switchLink, "type", "veth", "peer", "name", "eth0", "netns", h.NS)
		mustIP(t, "-n", hs.switchNS, "link", "set", h.switchLink, "master", "br0", "up")
		mustIP(t, "-n", h.NS, "addr", "add", netip.PrefixFrom(h.Addr, 24).String(), "dev", "eth0")
		mustIP(t, "-n", h.NS, "link", "set", "eth0", "up")
		d, ctx, cancel := startEngine(t, engineOptions{
			netns: h.NS, hostname: name, dirPattern: resourcePrefix,
			cgroupParent: "/" + resourcePrefix + hs.id + "-" + name,
			// Local networks (docker_gwbridge) from the hosts' own block,
			// not from ranges the machine may use.
			args: []string{"--default-address-pool", "base=" + localPool.String() + ",size=24"},
		})
		h.Daemon = d
		d.createGatewayBridge(t, ctx)
		cancel()
		hs.Hosts = append(hs.Hosts, h)
	}
	return hs
}

// freeBlock picks a 10.x.0.0/16 that no route or address of this machine
// overlaps (the hosts' network, the swarm's pool and the engines' local
// pool are all carved from it).
func freeBlock() (netip.Prefix, error) {
	used, err := usedPrefixes()
	if err != nil {
		return netip.Prefix{}, err
	}
	for x := 200; x < 250; x++ {
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(x), 0, 0}), 16)
		free := true
		for _, u := range used {
			if u.Overlaps(cand) {
				free = false
				break
			}
		}
		if free {
			return cand, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free 10.x.0.0/16 for the test hosts among 10.200-10.249: %v", used)
}

// usedPrefixes are the IPv4 destinations of every route (all tables) and
// the networks of every address of this machine's network namespace.
func usedPrefixes() ([]netip.Prefix, error) {
	var used []netip.Prefix
	out, err := exec.Command("ip", "-4", "-j", "route", "show", "table", "all").Output()
	if err != nil {
		return nil, fmt.Errorf("ip route: %w", err)
	}
	var routes []struct {
		Dst string `json:"dst"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return nil, fmt.Errorf("ip route: %w", err)
	}
	for _, r := range routes {
		if r.Dst == "default" || r.Dst == "" {
			continue
		}
		if !strings.Contains(r.Dst, "/") {
			r.Dst += "/32"
		}
		if p, err := netip.ParsePrefix(r.Dst); err == nil {
			used = append(used, p.Masked())
		}
	}
	out, err = exec.Command("ip", "-4", "-j", "addr").Output()
	if err != nil {
		return nil, fmt.Errorf("ip addr: %w", err)
	}
	var links []struct {
		Addrs []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("ip addr: %w", err)
	}
	for _, l := range links {
		for _, a := range l.Addrs {
			if addr, err := netip.ParseAddr(a.Local); err == nil {
				used = append(used, netip.PrefixFrom(addr, a.PrefixLen).Masked())
			}
		}
	}
	return used, nil
}

// LinkDown cuts the host's cable at the switch (a partition: the host and
// its engine keep running, nothing reaches them).
func (h *Host) LinkDown(t testing.TB) {
	t.Helper()
	mustIP(t, "-n", h.switchNS, "link", "set", h.switchLink, "down")
}

// LinkUp plugs the host's cable back in.
func (h *Host) LinkUp(t testing.TB) {
	t.Helper()
	mustIP(t, "-n", h.switchNS, "link", "set", h.switchLink, "up")
}

// Crash kills the host's dockerd, its containerd and shims, and every
// container process at once (SIGKILL, as a power cut would): nothing gets
// to say goodbye. Restart brings the engine back with the same data.
func (h *Host) Crash(t testing.TB) {
	t.Helper()
	if h.cmd != nil && h.cmd.Process != nil {
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		err := <-h.waitExit
		h.waitExit <- err
	}
	h.killStragglers(t)
	killCgroup(t, h.opts.cgroupParent)
}

// Restart starts the host's dockerd again on its data (after Crash, or to
// restart it gracefully: SIGTERM first); a swarm node rejoins by itself.
func (h *Host) Restart(t testing.TB) {
	t.Helper()
	if h.cmd != nil && h.cmd.ProcessState == nil {
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-h.waitExit:
			h.waitExit <- err
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: dockerd did not stop on SIGTERM within 30s", h.Name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := h.launch(ctx); err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
}

// teardown removes what StartHosts made; the engines (registered later)
// have been torn down already.
func (hs *Hosts) teardown(t testing.TB) {
	for _, h := range hs.Hosts {
		_ = exec.Command("ip", "netns", "delete", h.NS).Run()
	}
	_ = exec.Command("ip", "netns", "delete", hs.switchNS).Run()
	removeLeftoversNamed(t, resourcePrefix+hs.id)
}

// removeLeftovers removes what Hosts of a crashed earlier run left: their
// namespaces (and with them bridges and veths), processes, cgroups and
// directories. It runs holding the machine lock, so no live run is hurt.
func removeLeftovers(t testing.TB) {
	removeLeftoversNamed(t, resourcePrefix)
}

func removeLeftoversNamed(t testing.TB, prefix string) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		pids, _ := exec.Command("ip", "netns", "pids", f[0]).Output()
		for _, p := range strings.Fields(string(pids)) {
			if pid, err := strconv.Atoi(p); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err := exec.Command("ip", "netns", "delete", f[0]).Run(); err != nil {
			t.Logf("delete leftover network namespace %s: %v", f[0], err)
		} else {
			t.Logf("deleted leftover network namespace %s", f[0])
		}
	}
	dirs, _ := filepath.Glob("/tmp/" + prefix + "*")
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		d := &Daemon{Dir: dir}
		d.killStragglers(t)
	}
	groups, _ := filepath.Glob("/sys/fs/cgroup/pids/" + prefix + "*")
	unified, _ := filepath.Glob("/sys/fs/cgroup/" + prefix + "*")
	for _, g := range append(groups, unified...) {
		killCgroup(t, "/"+filepath.Base(g))
	}
	for _, dir := range dirs {
		d := &Daemon{Dir: dir}
		d.unmountAll(t)
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove leftover %s: %v", dir, err)
		}
	}
}

// killCgroup kills every process in the cgroup parent (and below) and
// removes the cgroups, in every hierarchy (cgroup v1 has one per
// controller; v2 one).
func killCgroup(t testing.TB, parent string) {
	if parent == "" {
		return
	}
	roots, _ := filepath.Glob("/sys/fs/cgroup/*" + parent)
	if fi, err := os.Stat("/sys/fs/cgroup" + parent); err == nil && fi.IsDir() {
		roots = append(roots, "/sys/fs/cgroup"+parent)
	}
	for round := 0; round < 20; round++ {
		alive := 0
		for _, root := range roots {
			_ = filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
				if err != nil || de.IsDir() || de.Name() != "cgroup.procs" {
					return nil
				}
				b, _ := os.ReadFile(p)
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil {
						_ = syscall.Kill(pid, syscall.SIGKILL)
						alive++
					}
				}
				return nil
			})
		}
		if alive == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, root := range roots {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := syscall.Rmdir(dirs[i]); err != nil && !os.IsNotExist(err) {
				t.Logf("remove cgroup %s: %v", dirs[i], err)
			}
		}
	}
}

func mustIP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ContainerCommands are the command lines (argv) of the processes running
// in the host's containers: what the host is doing, read from its cgroup,
// without asking its engine (which may be cut off or dead).
func (h *Host) ContainerCommands() [][]string {
	var out [][]string
	seen := map[string]bool{}
	roots := []string{"/sys/fs/cgroup/pids" + h.opts.cgroupParent, "/sys/fs/cgroup" + h.opts.cgroupParent}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() || de.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, pid := range strings.Fields(string(b)) {
				if seen[pid] {
					continue
				}
				seen[pid] = true
				cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
				if err != nil || len(cmdline) == 0 {
					continue
				}
				out = append(out, strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"))
			}
			return nil
		})
	}
	return out
}
