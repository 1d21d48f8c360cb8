package testproc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvVar carries the pid of the test binary that started a process.
const EnvVar = "SIMSWARM_TEST_OWNER"

// settle is how long Main waits for processes a test killed to be gone.
const settle = 3 * time.Second

// Main runs the tests with the mark set, then fails the binary (exit
// status 1) if any process that carries the mark still runs.
func Main(m *testing.M) int { return Wrap(m.Run) }

// Wrap is Main for a TestMain that has more to do around m.Run (stop a
// shared server): run calls m.Run and does that, and the check comes after.
func Wrap(run func() int) int {
	os.Setenv(EnvVar, strconv.Itoa(os.Getpid()))
	code := run()
	left, unsure := scan(mark())
	for deadline := time.Now().Add(settle); (len(left) > 0 || len(unsure) > 0) && time.Now().Before(deadline); left, unsure = scan(mark()) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) == 0 {
		return code
	}
	fmt.Fprintf(os.Stderr, "FAIL: %d process(es) started by these tests still run after them:\n", len(left))
	for _, p := range left {
		fmt.Fprintf(os.Stderr, "\tpid %d (group %d): %s\n", p.Pid, p.Pgid, p.Cmdline)
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	return 1
}

// Prepare puts cmd in a process group of its own (so Stop reaches what it
// forks) and marks it as this binary's even if it has an environment of
// its own.
func Prepare(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if cmd.Env != nil {
		cmd.Env = append(cmd.Env, mark())
	}
}

// Stop kills cmd's whole process group and waits for cmd.
func Stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	KillGroup(cmd.Process.Pid)
	_ = cmd.Wait()
}

// KillGroup SIGKILLs the process group pgid (started with Prepare, its
// leader's pid), for a harness that waits for the leader elsewhere.
func KillGroup(pgid int) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

func mark() string {
	if v := os.Getenv(EnvVar); v != "" {
		return EnvVar + "=" + v
	}
	return EnvVar + "=" + strconv.Itoa(os.Getpid())
}

// Proc is a process found carrying the mark.
type Proc struct {
	Pid, Pgid int
	Cmdline   string
}

// Leftovers lists the live processes (zombies do not count) that carry
// this binary's mark, other than the binary itself.
func Leftovers() []Proc { return Carrying(mark()) }

// Carrying lists the live processes (zombies do not count) whose
// environment holds the entry env ("NAME=value"), other than the calling
// process.
func Carrying(env string) []Proc {
	left, _ := scan(env)
	return left
}

// pfKthread is the kernel's PF_KTHREAD flag in /proc/PID/stat.
const pfKthread = 0x00200000

// scan is Carrying(env), and the pids of the processes (kernel threads
// aside) whose environment reads empty. A process started by a test just
// before the check can be one: exec.Cmd.Start returns once execve has closed the
// close-on-exec descriptors, before the kernel has laid out the new
// program's environment, and until then /proc/PID/environ reads empty, so
// the mark cannot be seen (a leak-child self-test missed its leak so).
// Wrap waits until none is left, or settle has passed.
func scan(env string) (left []Proc, unsure []int) {
	want := []byte(env + "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, nil
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session tty tpgid flags ...: comm may
		// hold spaces and parens.
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 7 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if flags, _ := strconv.ParseUint(f[6], 10, 64); flags&pfKthread != 0 {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue // not ours to read: another user's
		}
		if len(env) == 0 {
			unsure = append(unsure, pid)
			continue
		}
		if !bytes.HasPrefix(env, want) && !bytes.Contains(env, append([]byte{0}, want...)) {
			continue
		}
		pgid, _ := strconv.Atoi(f[2])
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		left = append(left, Proc{Pid: pid, Pgid: pgid, Cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))})
	}
	return left, unsure
}
