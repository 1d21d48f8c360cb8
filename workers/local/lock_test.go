package local

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a progress writer read while another goroutine writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// holdLock holds dir's lock from another process (util-linux flock, as a
// second simswarm would) until the returned func is called; the lock file
// names that process, as LockDir's holder writes it.
func holdLock(t *testing.T, dir string) (pid int, release func()) {
	t.Helper()
	path := filepath.Join(dir, ".simswarm", "lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("flock", path, "sh", "-c", `echo $PPID > "$0"; echo held; exec sleep 60`, path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("flock: %q %v", line, err)
	}
	release = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // flock and the sleep that inherited its lock
		_ = cmd.Wait()
	}
	t.Cleanup(release)
	return cmd.Process.Pid, release
}

// TestExecuteWaitsForTheResultsDirectorysHolder: while another Execute
// holds a results directory, a second waits, says who holds it, and once
// the first is done finds its runs complete: nothing is simulated twice.
func TestExecuteWaitsForTheResultsDirectorysHolder(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2})
	results := filepath.Join(t.TempDir(), "results")
	if sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 2}); sum.Succeeded != 3 {
		t.Fatalf("first sweep: %+v", sum)
	}
	pid, release := holdLock(t, results)
	var progress lockedBuffer
	done := make(chan *Summary, 1)
	go func() {
		sum, err := Execute(context.Background(), p, Options{ResultsDir: results, Jobs: 2, Progress: &progress})
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	select {
	case sum := <-done:
		t.Fatalf("Execute did not wait for the directory's holder: %+v", sum)
	case <-time.After(500 * time.Millisecond):
	}
	want := fmt.Sprintf("%s is in use by another simswarm (pid %d): waiting for it to finish", results, pid)
	if !strings.Contains(progress.String(), want) {
		t.Errorf("progress %q, want it to say %q", progress.String(), want)
	}
	release()
	select {
	case sum := <-done:
		if sum.Skipped != 3 || sum.Succeeded != 0 {
			t.Errorf("after the holder let go: %+v, want all 3 runs skipped", sum)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Execute still waiting after the holder let go")
	}
}

// TestExecuteInterruptedWhileWaitingForTheResultsDirectory: Ctrl-C while
// waiting ends Execute as interrupted, with nothing run or recorded.
func TestExecuteInterruptedWhileWaitingForTheResultsDirectory(t *testing.T) {
	p := testPlan(t, []int{0, 1})
	results := filepath.Join(t.TempDir(), "results")
	holdLock(t, results)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sum := execute(t, ctx, p, Options{ResultsDir: results, Jobs: 2})
	if !sum.Interrupted || sum.Succeeded != 0 || sum.Failed != 0 || sum.Total != 2 {
		t.Errorf("summary %+v, want 2 runs interrupted before any ran", sum)
	}
	if hasRecord(t, results, 0) || len(listResults(t, results)) != 0 {
		t.Errorf("something was run while waiting: %v", listResults(t, results))
	}
}

// TestLockDirRefusesItsOwnHolder: a directory this process already holds
// (a work directory given as the results directory) is an error, not a
// wait for ever.
func TestLockDirRefusesItsOwnHolder(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = LockDir(ctx, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "already in use by this simswarm") {
		t.Fatalf("second LockDir in one process: %v", err)
	}
}
