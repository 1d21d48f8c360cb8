package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testproc"
)

// TestMain lets the test binary act as the simswarm binary: with
// SIMSWARM_TEST_ARGV set (a JSON argv) it runs that command line and exits,
// so tests can start controllers as real processes and SIGKILL them.
func TestMain(m *testing.M) {
	if argv := os.Getenv("SIMSWARM_TEST_ARGV"); argv != "" {
		var args []string
		if err := json.Unmarshal([]byte(argv), &args); err != nil {
			fmt.Fprintln(os.Stderr, "SIMSWARM_TEST_ARGV:", err)
			os.Exit(2)
		}
		os.Args = append([]string{"simswarm"}, args...)
		main()
		os.Exit(0)
	}
	os.Exit(testproc.Main(m))
}

// startCLIProc starts `simswarm args...` as a child process (the test
// binary, through TestMain) with its stdout and stderr going to out.
func startCLIProc(t *testing.T, out io.Writer, args ...string) *exec.Cmd {
	t.Helper()
	argv, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SIMSWARM_TEST_ARGV="+string(argv))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// proc is a simswarm process started from the test binary.
type proc struct {
	cmd  *exec.Cmd
	addr string
	log  string
}

// startProc runs `simswarm args...` as a child process with extra env.
func startProc(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	argv, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "SIMSWARM_TEST_ARGV="+string(argv)), env...)
	logPath := filepath.Join(t.TempDir(), "simswarm.log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	testproc.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		testproc.Stop(cmd)
		lf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of simswarm %s:\n%s", strings.Join(args, " "), tail(string(b), 4000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// startControllerProc starts `simswarm controller` and waits for /healthz.
func startControllerProc(t testing.TB, redisURL, mongoURI, tokenFile string, extra ...string) *proc {
	t.Helper()
	addr := freeport.Addr(t)
	args := append([]string{"controller", "--listen", addr, "--redis", redisURL, "--mongo", mongoURI,
		"--token-file", tokenFile, "--lease", "2s", "--resync", "2s", "-v"}, extra...)
	p := startProc(t, nil, args...)
	p.addr = addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller on %s not healthy: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeToken(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rssKB reads a process's resident set (VmRSS) and peak (VmHWM) in KiB.
func rssKB(pid int) (rss, hwm int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}
