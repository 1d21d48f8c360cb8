package tunnel

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/freeport"
	sshdtest "github.com/simswarm/simswarm/test/sshd"
)

// specFor is a tunnel through the test sshd with the test's known_hosts.
func specFor(s *sshdtest.Server, name string, fwd ...Forward) Spec {
	return Spec{
		Name: name, Host: s.Host, Port: s.Port, User: s.User,
		IdentityFile: s.ClientKey, KnownHostsFile: s.KnownHosts, HostKeyAlias: s.HostKeyAlias,
		ConfigFile: "none", Forwards: fwd,
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestClusterTunnelForwardsAndDisconnectEndsExactlyThatProcess: connect forwards
// a local TCP port and a local unix socket through a real sshd to test
// HTTP servers behind it, records ssh's PID and argv, reuses the live
// tunnel, and disconnect ends that ssh and no other.
func TestClusterTunnelForwardsAndDisconnectEndsExactlyThatProcess(t *testing.T) {
	s := sshdtest.Start(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "controller api") }))
	defer api.Close()
	sockDir := t.TempDir()
	remoteSock := filepath.Join(sockDir, "docker.sock")
	ul, err := net.Listen("unix", remoteSock)
	if err != nil {
		t.Fatal(err)
	}
	engine := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "docker engine") })}
	go engine.Serve(ul)
	defer engine.Close()

	m := &Manager{Dir: t.TempDir()}
	t.Cleanup(func() { _, _ = m.Disconnect("a"); _, _ = m.Disconnect("b") }) // also when the test fails
	ctx := context.Background()
	localA := freeport.Addr(t)
	localSock := filepath.Join(m.Dir, "a-docker.sock")
	a, err := m.Connect(ctx, specFor(s, "a",
		Forward{Local: localA, Remote: strings.TrimPrefix(api.URL, "http://")},
		Forward{Local: localSock, Remote: remoteSock}))
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, s.LogTail())
	}
	if a.Reused {
		t.Fatal("first connect reports a reused tunnel")
	}
	if got := get(t, http.DefaultClient, "http://"+localA+"/"); got != "controller api" {
		t.Fatalf("through the tunnel: %q", got)
	}
	unixClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", localSock)
	}}}
	if got := get(t, unixClient, "http://docker/_ping"); got != "docker engine" {
		t.Fatalf("through the socket forward: %q", got)
	}

	// The PID file names the ssh process and its exact command line.
	info, alive, err := m.Status("a")
	if err != nil || !alive || info.PID != a.PID {
		t.Fatalf("status: %+v alive=%v err=%v", info, alive, err)
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(a.PID) + "/cmdline")
	if !strings.HasSuffix(strings.Split(string(cmdline), "\x00")[0], "ssh") || !slices.Contains(info.Argv, "ExitOnForwardFailure=yes") {
		t.Fatalf("PID %d runs %q, PID file argv %q", a.PID, cmdline, info.Argv)
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "tunnel-a.json")); err != nil {
		t.Fatalf("PID file: %v", err)
	}

	again, err := m.Connect(ctx, specFor(s, "a",
		Forward{Local: localA, Remote: strings.TrimPrefix(api.URL, "http://")},
		Forward{Local: localSock, Remote: remoteSock}))
	if err != nil || !again.Reused || again.PID != a.PID {
		t.Fatalf("second connect: %+v, %v; want the live tunnel %d reused", again, err, a.PID)
	}

	localB := freeport.Addr(t)
	b, err := m.Connect(ctx, specFor(s, "b", Forward{Local: localB, Remote: strings.TrimPrefix(api.URL, "http://")}))
	if err != nil {
		t.Fatalf("connect b: %v", err)
	}

	was, err := m.Disconnect("a")
	if err != nil || !was {
		t.Fatalf("disconnect a: %v %v", was, err)
	}
	if !sshdtest.ProcessGone(a.PID) {
		t.Fatalf("ssh %d still runs after disconnect", a.PID)
	}
	if _, err := net.DialTimeout("tcp", localA, time.Second); err == nil {
		t.Fatal("local port of a still accepts connections")
	}
	if _, err := os.Stat(a.PIDFile); !os.IsNotExist(err) {
		t.Fatalf("PID file of a after disconnect: %v", err)
	}
	if _, alive, _ := m.Status("b"); !alive {
		t.Fatal("disconnect a ended tunnel b")
	}
	if got := get(t, http.DefaultClient, "http://"+localB+"/"); got != "controller api" {
		t.Fatalf("tunnel b after disconnect a: %q", got)
	}
	if was, err := m.Disconnect("a"); err != nil || was {
		t.Fatalf("second disconnect a: %v %v, want nothing to do", was, err)
	}
	if _, err := m.Disconnect("b"); err != nil || !sshdtest.ProcessGone(b.PID) {
		t.Fatalf("disconnect b: %v", err)
	}
}

// TestClusterDisconnectLeavesARecycledPIDAlone: a PID file whose PID now belongs
// to another program is removed, the program is not signalled.
func TestClusterDisconnectLeavesARecycledPIDAlone(t *testing.T) {
	m := &Manager{Dir: t.TempDir()}
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	info := Info{Name: "c", PID: other.Process.Pid, Argv: []string{"/usr/bin/ssh", "-N", "--", "example"}, PIDFile: m.pidFile("c")}
	if err := m.writePIDFile(info); err != nil {
		t.Fatal(err)
	}
	was, err := m.Disconnect("c")
	if err != nil || was {
		t.Fatalf("disconnect: %v %v, want nothing running", was, err)
	}
	time.Sleep(200 * time.Millisecond)
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(other.Process.Pid) + "/stat"); err != nil || strings.Contains(string(st), ") Z ") {
		t.Fatal("disconnect killed a process that is not its ssh")
	}
	if _, err := os.Stat(info.PIDFile); !os.IsNotExist(err) {
		t.Fatalf("stale PID file kept: %v", err)
	}
}

// TestClusterConnectFailsOnAWrongHostKey: a host key that does not match the
// known_hosts file ends the attempt with ssh's reason, and nothing stays
// running or recorded.
func TestClusterConnectFailsOnAWrongHostKey(t *testing.T) {
	s := sshdtest.Start(t)
	m := &Manager{Dir: t.TempDir()}
	spec := specFor(s, "d", Forward{Local: freeport.Addr(t), Remote: "127.0.0.1:9"})
	spec.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	wrong := s.HostKeyAlias + " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuTNjS5UCbtd5ae1RcLzwy8oCg6JXdTaGnIZ3dzpZdM\n"
	if err := os.WriteFile(spec.KnownHostsFile, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := m.Connect(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "ssh exited") || !strings.Contains(strings.ToLower(err.Error()), "host key") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("connect with a wrong host key: %v", err)
	}
	if _, err := os.Stat(m.pidFile("d")); !os.IsNotExist(err) {
		t.Fatalf("PID file after a failed connect: %v", err)
	}
}

// TestClusterConnectRefusesABusyLocalPort: ssh would exit, and a dial would reach
// the other listener and look like success.
func TestClusterConnectRefusesABusyLocalPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	m := &Manager{Dir: t.TempDir()}
	spec := Spec{Name: "e", Host: "127.0.0.1", User: "root", KnownHostsFile: "/dev/null", SSH: "/bin/true",
		Forwards: []Forward{{Local: l.Addr().String(), Remote: "127.0.0.1:8080"}}}
	_, err = m.Connect(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("connect on a busy port: %v", err)
	}
}

func TestClusterArgvIsSafeAndStrict(t *testing.T) {
	spec := Spec{Name: "x", Host: "203.0.113.7", User: "ec2-user", KnownHostsFile: "/k", HostKeyAlias: "alias",
		IdentityFile: "/id", SSH: "/usr/bin/ssh", Forwards: []Forward{{Local: "127.0.0.1:8080", Remote: "127.0.0.1:8080"}}}
	argv, err := Argv(spec)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(argv, " ")
	for _, want := range []string{"/usr/bin/ssh -N ", "-o BatchMode=yes", "-o ExitOnForwardFailure=yes", "-o StrictHostKeyChecking=yes",
		"-o UserKnownHostsFile=/k", "-o HostKeyAlias=alias", "-i /id", "-L 127.0.0.1:8080:127.0.0.1:8080", "-l ec2-user -- 203.0.113.7"} {
		if !strings.Contains(got, want) {
			t.Errorf("argv %q lacks %q", got, want)
		}
	}
	for _, bad := range []Spec{
		{Name: "x", Host: "-oProxyCommand=touch /tmp/p", User: "u", KnownHostsFile: "/k", Forwards: spec.Forwards},
		{Name: "x", Host: "h", User: "-oX", KnownHostsFile: "/k", Forwards: spec.Forwards},
		{Name: "../x", Host: "h", User: "u", KnownHostsFile: "/k", Forwards: spec.Forwards},
		{Name: "x", Host: "h", User: "u", Forwards: spec.Forwards},
		{Name: "x", Host: "h", User: "u", KnownHostsFile: "/k", StrictHostKeyChecking: "no", Forwards: spec.Forwards},
		{Name: "x", Host: "h", User: "u", KnownHostsFile: "/k"},
	} {
		bad.SSH = "/usr/bin/ssh"
		if a, err := Argv(bad); err == nil {
			t.Errorf("Argv(%+v) = %q, want an error", bad, a)
		}
	}
}

func TestClusterDefaultDirIsPrivate(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	dir, err := DefaultDir()
	if err != nil || dir != filepath.Join(rt, "simswarm") {
		t.Fatalf("DefaultDir = %q, %v", dir, err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := DefaultDir(); err == nil {
		t.Fatal("a world-writable tunnel directory is accepted")
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", t.TempDir())
	dir, err = DefaultDir()
	if err != nil || dir != filepath.Join(os.TempDir(), "simswarm-"+strconv.Itoa(os.Getuid())) {
		t.Fatalf("fallback DefaultDir = %q, %v", dir, err)
	}
}
