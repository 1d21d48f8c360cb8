package procexec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitStatusAndStderrTail(t *testing.T) {
	res := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "echo first >&2; echo last-words >&2; exit 3"}})
	if res.Success() || res.ExitCode != 3 || res.Signal != "" {
		t.Fatalf("got %+v, want exit 3", res)
	}
	if !strings.Contains(res.StderrTail, "last-words") {
		t.Fatalf("tail %q lacks stderr", res.StderrTail)
	}
	if res.Describe() != "exit status 3" {
		t.Fatalf("Describe = %q", res.Describe())
	}
}

func TestSegfaultReportsSignal(t *testing.T) {
	res := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "echo dying >&2; kill -SEGV $$"}})
	if res.Success() || res.Signal != "segmentation fault" || res.ExitCode != -1 {
		t.Fatalf("got %+v, want segmentation fault", res)
	}
	if !strings.Contains(res.StderrTail, "dying") {
		t.Fatalf("tail %q", res.StderrTail)
	}
}

func TestTimeoutKillsWholeGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild.pid")
	// The grandchild ignores nothing special; it must die with the group.
	script := "sleep 300 & echo $! > " + pidFile + "; wait"
	start := time.Now()
	res := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", script}, Timeout: 300 * time.Millisecond})
	if !res.TimedOut || res.Success() {
		t.Fatalf("got %+v, want timeout", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Run returned after %v", d)
	}
	assertDead(t, pidFile)
}

func TestCancelKillsWholeGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild.pid")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	res := Run(ctx, Cmd{Argv: []string{"sh", "-c", "sleep 300 & echo $! > " + pidFile + "; wait"}})
	if !res.Canceled {
		t.Fatalf("got %+v, want canceled", res)
	}
	assertDead(t, pidFile)
}

func TestLeftoverBackgroundProcessIsKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	start := time.Now()
	// The background sleep inherits stderr: without care Wait would block
	// until it exits.
	res := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "sleep 300 & echo $! > " + pidFile + "; echo done >&2"}})
	if !res.Success() || !strings.Contains(res.StderrTail, "done") {
		t.Fatalf("got %+v", res)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("Run returned after %v", d)
	}
	assertDead(t, pidFile)
}

func TestTermIgnoringProgramIsKilled(t *testing.T) {
	res := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "trap '' TERM; sleep 300 & wait; sleep 300"}, Timeout: 100 * time.Millisecond})
	if !res.TimedOut {
		t.Fatalf("got %+v", res)
	}
}

func TestStartFailure(t *testing.T) {
	res := Run(context.Background(), Cmd{Argv: []string{"/nonexistent/program"}})
	if res.Err == nil || res.Success() {
		t.Fatalf("got %+v, want start error", res)
	}
	if res := Run(context.Background(), Cmd{}); res.Err == nil {
		t.Fatal("empty argv accepted")
	}
}

func TestCPUTimeMeasured(t *testing.T) {
	res := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"}})
	if !res.Success() || res.CPU() <= 0 {
		t.Fatalf("got %+v, want CPU time > 0", res)
	}
}

func TestTailBufferKeepsEnd(t *testing.T) {
	b := newTailBuffer(8)
	b.Write([]byte("0123"))
	b.Write([]byte("456789"))
	if got := b.String(); got != "23456789" {
		t.Fatalf("got %q", got)
	}
	b.Write([]byte("abcdefghijkl"))
	if got := b.String(); got != "efghijkl" {
		t.Fatalf("got %q", got)
	}
}

func assertDead(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, c := range strings.TrimSpace(string(data)) {
		pid = pid*10 + int(c-'0')
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("grandchild %d still alive", pid)
}
