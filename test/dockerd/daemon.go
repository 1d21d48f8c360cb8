package dockertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/simswarm/simswarm/test/freeport"
)

// Daemon is a running private dockerd that is a swarm manager.
type Daemon struct {
	// Dir holds the data root, exec root, socket, pid file and log.
	Dir string
	// Host is the DOCKER_HOST value for the private socket.
	Host string
	// Client talks to the private daemon (API version negotiated).
	Client *client.Client
	// NodeID is the swarm node ID of the daemon.
	NodeID string

	cmd       *exec.Cmd
	waitExit  chan error
	logPath   string
	gwBridge  string
	swarmAddr string // host:port of the swarm listener
	opts      engineOptions
}

// storageDriver is overlay2 where the kernel has overlayfs (containers
// share their image's layers: a Debian image is not copied per container),
// vfs elsewhere (works on any file system, copies every layer).
// SIMSWARM_TEST_STORAGE_DRIVER overrides the choice.
func storageDriver() string {
	if d := os.Getenv("SIMSWARM_TEST_STORAGE_DRIVER"); d != "" {
		return d
	}
	if b, err := os.ReadFile("/proc/filesystems"); err == nil && bytes.Contains(b, []byte("\toverlay\n")) {
		return "overlay2"
	}
	return "vfs"
}

// startTimeout bounds how long dockerd may take to answer.
const startTimeout = 60 * time.Second

// Start runs a private dockerd and initialises a one-node swarm on it.
func Start(t testing.TB) *Daemon {
	t.Helper()
	d, ctx, cancel := startEngine(t)
	defer cancel()
	d.initSwarm(t, ctx)
	return d
}

// engineOptions place an engine in a test host (see Hosts); the zero
// value is an engine in this machine's namespaces.
type engineOptions struct {
	netns        string   // network namespace to run dockerd in
	hostname     string   // UTS hostname (the swarm node's name); with netns
	cgroupParent string   // absolute cgroup of its containers, to kill them all
	dirPattern   string   // os.MkdirTemp pattern under /tmp (default "ssd")
	args         []string // extra dockerd flags
}

// startEngine runs a private dockerd and waits until it answers.
func startEngine(t testing.TB, opts ...engineOptions) (*Daemon, context.Context, context.CancelFunc) {
	t.Helper()
	var o engineOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	for _, bin := range []string{"dockerd", "containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not installed (make deps installs docker.io): %v", bin, err)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatalf("dockerd needs root")
	}
	release := acquireMachineLock(t)
	if o.dirPattern == "" {
		o.dirPattern = "ssd"
	}
	// Short directory: unix socket paths (ours and containerd's shims)
	// must stay under 108 bytes, and t.TempDir() paths can be long.
	dir, err := os.MkdirTemp("/tmp", o.dirPattern)
	if err != nil {
		release()
		t.Fatal(err)
	}
	d := &Daemon{
		Dir:      dir,
		Host:     "unix://" + filepath.Join(dir, "docker.sock"),
		logPath:  filepath.Join(dir, "dockerd.log"),
		gwBridge: "ssgw" + randHex(4),
		opts:     o,
	}
	if o.netns != "" {
		// The bridge lives in the host's own namespace and goes with it.
		d.gwBridge = ""
	}
	t.Cleanup(func() {
		defer release()
		d.teardown(t)
	})
	d.Client, err = client.NewClientWithOpts(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	if err := d.launch(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	return d, ctx, cancel
}

// launch starts the dockerd process (again, after a Kill: same data root)
// and waits until it answers.
func (d *Daemon) launch(ctx context.Context) error {
	logFile, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	args := []string{
		"--data-root", filepath.Join(d.Dir, "data"),
		"--exec-root", filepath.Join(d.Dir, "exec"),
		"--pidfile", filepath.Join(d.Dir, "docker.pid"),
		"-H", d.Host,
		"--bridge=none",
		"--iptables=false",
		"--ip6tables=false",
		"--storage-driver=" + storageDriver(),
		// Without iptables, published ports reach containers only through
		// the userland proxy (docker-proxy, a child of this daemon).
		"--userland-proxy=true",
	}
	if d.opts.cgroupParent != "" {
		args = append(args, "--cgroup-parent="+d.opts.cgroupParent)
	}
	args = append(args, d.opts.args...)
	cmd := exec.Command("dockerd", args...)
	if d.opts.netns != "" {
		// A UTS namespace of its own names the node; nsenter then enters
		// the host's network namespace and execs dockerd: one process, one
		// group. Not ip netns exec: its mount namespace remounts /sys, which
		// hides the cgroup file systems dockerd needs.
		cmd = exec.Command("unshare", append([]string{"--uts", "--", "sh", "-c",
			`hostname "$0" && ns="$1" && shift && exec nsenter --net="$ns" dockerd "$@"`,
			d.opts.hostname, "/run/netns/" + d.opts.netns}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Swarm tasks try a registry pull before using a local image; with this
	// the engine uses the local image and never looks up a registry (tests
	// must not touch the network, and there is no registry anyway).
	cmd.Env = append(os.Environ(), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1")
	// Own process group: teardown signals dockerd and the containerd it
	// started together, and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start dockerd: %w", err)
	}
	d.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	d.waitExit = exited
	for {
		if _, err := d.Client.Ping(ctx); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("dockerd exited during start: %v\n%s", err, d.logTail())
		case <-ctx.Done():
			return fmt.Errorf("dockerd did not answer within %v\n%s", startTimeout, d.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	d.Client.NegotiateAPIVersion(ctx)
	return nil
}

// initSwarm makes the daemon a one-node swarm manager without touching the
// host's shared names and ports.
func (d *Daemon) initSwarm(t testing.TB, ctx context.Context) {
	t.Helper()
	d.createGatewayBridge(t, ctx)
	listen := freeport.Port(t)
	d.swarmAddr = "127.0.0.1:" + strconv.Itoa(listen)
	id, err := d.Client.SwarmInit(ctx, swarm.InitRequest{
		ListenAddr:    d.swarmAddr,
		AdvertiseAddr: d.swarmAddr,
		// VXLAN's UDP port is per host: another swarm daemon may hold 4789.
		DataPathPort: freeUDPPort(t),
	})
	if err != nil {
		t.Fatalf("swarm init: %v\n%s", err, d.logTail())
	}
	d.NodeID = id
}

// JoinWorker starts another private dockerd and joins it to d's swarm as a
// worker node. It is torn down (before d) when the test ends. Both engines
// share this host's network namespace, so overlay traffic between them is
// not expected to work (their VXLAN devices would need the same port); the
// node is real for the scheduler and the API: joining, CPUs, labels,
// leaving.
func (d *Daemon) JoinWorker(t testing.TB) *Daemon {
	t.Helper()
	w, ctx, cancel := startEngine(t)
	defer cancel()
	w.createGatewayBridge(t, ctx)
	sw, err := d.Client.SwarmInspect(ctx)
	if err != nil {
		t.Fatalf("swarm inspect: %v", err)
	}
	w.swarmAddr = "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	if err := w.Client.SwarmJoin(ctx, swarm.JoinRequest{
		ListenAddr: w.swarmAddr, AdvertiseAddr: w.swarmAddr,
		RemoteAddrs: []string{d.swarmAddr}, JoinToken: sw.JoinTokens.Worker,
	}); err != nil {
		t.Fatalf("swarm join: %v\n%s", err, w.logTail())
	}
	info, err := w.Client.Info(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	w.NodeID = info.Swarm.NodeID
	return w
}

// Leave makes the node leave its swarm (the manager then sees it down).
func (d *Daemon) Leave(t testing.TB) {
	t.Helper()
	if err := d.Client.SwarmLeave(context.Background(), true); err != nil {
		t.Fatalf("swarm leave: %v", err)
	}
}

// createGatewayBridge pre-creates docker_gwbridge with this daemon's own
// interface name.
func (d *Daemon) createGatewayBridge(t testing.TB, ctx context.Context) {
	t.Helper()
	// Swarm would create a bridge called docker_gwbridge in the host's
	// network namespace, shared with any other daemon; pre-create the
	// network under the same name but with our own interface name.
	_, err := d.Client.NetworkCreate(ctx, "docker_gwbridge", network.CreateOptions{
		Driver: "bridge",
		Options: map[string]string{
			"com.docker.network.bridge.name":                 d.gwBridge,
			"com.docker.network.bridge.enable_icc":           "false",
			"com.docker.network.bridge.enable_ip_masquerade": "false",
		},
	})
	if err != nil {
		t.Fatalf("create docker_gwbridge: %v\n%s", err, d.logTail())
	}
}

// CLI runs the docker command-line client against the private daemon and
// returns its combined output; it fails the test on a non-zero exit.
func (d *Daemon) CLI(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.TryCLI(nil, args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TryCLI runs the docker CLI with stdin and returns output and error.
func (d *Daemon) TryCLI(stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host, "DOCKER_CONFIG="+filepath.Join(d.Dir, "cli"))
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// LogTail is the end of the daemon's log, for failure messages.
func (d *Daemon) logTail() string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "--- dockerd log tail ---\n" + string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freeUDPPort finds a free UDP port in the range swarm accepts for its
// data path (1024-49151; the kernel's ephemeral ports lie above it).
func freeUDPPort(t testing.TB) uint32 {
	t.Helper()
	for i := 0; i < 100; i++ {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		port := 20000 + int(binary.BigEndian.Uint16(b))%29000
		if port > 49151 {
			continue
		}
		c, err := net.ListenPacket("udp", ":"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return uint32(port)
		}
	}
	t.Fatal("no free UDP port for the swarm data path")
	return 0
}

func (d *Daemon) String() string { return fmt.Sprintf("dockerd(%s)", d.Host) }
