package procexec

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/testproc"
)

// TestMain lets the test binary be a worker that runs a long program
// through Run, for TestProgramDiesWithItsWorker.
func TestMain(m *testing.M) {
	if os.Getenv("PROCEXEC_TEST_WORKER") == "1" {
		go Run(context.Background(), Cmd{Argv: []string{"sleep", "3600"}})
		fmt.Println("started")
		select {}
	}
	os.Exit(testproc.Main(m))
}

// childOf returns the pid of a child of parent, or 0.
func childOf(parent int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", parent, parent))
	if err != nil {
		return 0
	}
	// The program may have been forked by any thread of the worker.
	if f := strings.Fields(string(b)); len(f) > 0 {
		pid, _ := strconv.Atoi(f[0])
		return pid
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", parent))
	for _, t := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", parent, t.Name()))
		if f := strings.Fields(string(b)); len(f) > 0 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
	}
	return 0
}

func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z'
}

// TestProgramDiesWithItsWorker SIGKILLs a worker process (no shutdown path
// runs) while Run waits for a long program: the program must not run on
// with parent 1.
func TestProgramDiesWithItsWorker(t *testing.T) {
	w := exec.Command(os.Args[0], "-test.run=^$")
	w.Env = append(os.Environ(), "PROCEXEC_TEST_WORKER=1")
	out, err := w.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Process.Kill(); w.Wait() })
	buf := make([]byte, 8)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); {
		child = childOf(w.Process.Pid)
		time.Sleep(20 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("the worker started no program")
	}
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	w.Process.Kill()
	w.Wait()
	for deadline := time.Now().Add(5 * time.Second); running(child); {
		if time.Now().After(deadline) {
			t.Fatalf("program %d still runs 5 s after its worker was killed", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
