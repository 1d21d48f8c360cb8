package mototest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running moto_server.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string

	cmd     *exec.Cmd
	logPath string
}

// logTail is the end of the server's output, for failure messages.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

var shared struct {
	sync.Mutex
	s   *Server
	err error
}

// Binary returns the path of moto_server, or why it is not usable.
func Binary() (string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".pyenv", "shims", "moto_server")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("moto_server (moto 5.x, the AWS emulator of the machine image) is not in PATH or ~/.pyenv/shims")
}

// Require fails the test under CI and skips it elsewhere when moto_server
// is missing.
func Require(t testing.TB) string {
	t.Helper()
	p, err := Binary()
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v: required in CI", err)
	}
	t.Skipf("skipping: %v; it cannot be installed from the package registries here", err)
	return ""
}

// Shared returns the test binary's moto_server with its state reset.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := Require(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.s == nil && shared.err == nil {
		shared.s, shared.err = start(bin)
	}
	if shared.err != nil {
		t.Fatalf("start moto_server: %v", shared.err)
	}
	if err := shared.s.Reset(); err != nil {
		t.Fatalf("reset moto_server: %v\n%s", err, shared.s.logTail())
	}
	return shared.s
}

// Start runs a moto_server of the test's own, stopped when the test ends
// (for packages whose TestMain cannot call Main).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Require(t)
	s, err := start(bin)
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

// Main runs the tests and stops the shared server afterwards.
func Main(m *testing.M) int {
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.s != nil {
		shared.s.stop()
		shared.s = nil
	}
	return code
}

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), logPath: logFile.Name()}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// The pyenv shim execs python in the same process, so the signal
	// reaches the server if the test binary dies without cleaning up.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("moto_server exited: %v\n%s", err, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("moto_server did not answer on %s within 30s\n%s", s.URL, s.logTail())
		}
	}
}

// Reset drops every resource moto holds.
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /moto-api/reset: %s", resp.Status)
	}
	return nil
}

func (s *Server) stop() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	_ = os.Remove(s.logPath)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
