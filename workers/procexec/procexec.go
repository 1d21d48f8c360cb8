package procexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// DefaultTailBytes is how much of stderr a Result keeps when Cmd.TailBytes is 0.
const DefaultTailBytes = 4096

// killGrace is how long a process group has between SIGTERM and SIGKILL.
const killGrace = 2 * time.Second

// Cmd is one program invocation.
type Cmd struct {
	Argv    []string
	Dir     string
	Env     []string // nil: inherit the caller's environment
	Timeout time.Duration
	// Stdout and Stderr, when set, also receive the program's output.
	Stdout, Stderr io.Writer
	// TailBytes bounds the stderr tail kept in the Result.
	TailBytes int
	// Combined sends stdout and stderr through one pipe into Stdout (and
	// the tail), so that their lines keep the order the program wrote them
	// in.
	Combined bool
}

// Result is what became of one invocation.
type Result struct {
	ExitCode   int    // -1 when killed by a signal or never started
	Signal     string // e.g. "segmentation fault", when killed by a signal
	TimedOut   bool
	Canceled   bool
	Duration   time.Duration
	UserCPU    time.Duration
	SysCPU     time.Duration
	StderrTail string
	Err        error // could not start, or could not wait
}

// Success reports whether the program ran to completion with status 0.
func (r Result) Success() bool {
	return r.Err == nil && !r.TimedOut && !r.Canceled && r.ExitCode == 0
}

// CPU is the program's user plus system CPU time.
func (r Result) CPU() time.Duration { return r.UserCPU + r.SysCPU }

// Describe says in a few words how the program ended.
func (r Result) Describe() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.TimedOut:
		return "timed out"
	case r.Canceled:
		return "canceled"
	case r.Signal != "":
		return "killed by signal: " + r.Signal
	default:
		return fmt.Sprintf("exit status %d", r.ExitCode)
	}
}

// Run executes c and waits for it (and, on timeout/cancel, for its group).
func Run(ctx context.Context, c Cmd) Result {
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return Result{ExitCode: -1, Err: errors.New("empty command")}
	}
	tailN := c.TailBytes
	if tailN <= 0 {
		tailN = DefaultTailBytes
	}
	tail := newTailBuffer(tailN)

	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	cmd.Stdout = c.Stdout
	if c.Combined {
		// One writer value for both: os/exec then gives the program a
		// single pipe.
		var w io.Writer = tail
		if c.Stdout != nil {
			w = io.MultiWriter(tail, c.Stdout)
		}
		cmd.Stdout, cmd.Stderr = w, w
	} else if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, c.Stderr)
	} else {
		cmd.Stderr = tail
	}
	// Own process group so that a timeout reaches the program's children
	// too (opp_run scripts, wrappers), not just the direct child.
	// Pdeathsig: if the worker dies (even by SIGKILL, when no shutdown path
	// runs) the program gets SIGKILL instead of running on with parent 1.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// A background process left behind would hold the stderr pipe open and
	// keep Wait from returning; bound that wait (the group is killed below).
	cmd.WaitDelay = killGrace

	start := time.Now()
	done := make(chan error, 1)
	if err := startLocked(cmd, done); err != nil {
		return Result{ExitCode: -1, Err: fmt.Errorf("start %s: %w", c.Argv[0], err)}
	}

	var timeout <-chan time.Time
	if c.Timeout > 0 {
		t := time.NewTimer(c.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	res := Result{}
	var waitErr error
	select {
	case waitErr = <-done:
		// The program is done; whatever it left running in its group would
		// only steal the next run's CPU.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	case <-timeout:
		res.TimedOut = true
		waitErr = killGroup(cmd.Process.Pid, done)
	case <-ctx.Done():
		res.Canceled = true
		waitErr = killGroup(cmd.Process.Pid, done)
	}
	res.Duration = time.Since(start)
	res.StderrTail = tail.String()
	res.ExitCode = -1
	if ps := cmd.ProcessState; ps != nil {
		res.UserCPU = ps.UserTime()
		res.SysCPU = ps.SystemTime()
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal().String()
		} else {
			res.ExitCode = ps.ExitCode()
		}
	} else if waitErr != nil {
		res.Err = fmt.Errorf("wait %s: %w", c.Argv[0], waitErr)
	}
	return res
}

// startLocked starts cmd and sends its Wait result to done. The kernel
// sends the parent-death signal when the *thread* that forked the child
// exits, not the process, and the Go runtime ends a thread when a goroutine
// locked to it returns without unlocking. So the start and the wait happen
// on one goroutine locked to its thread until the child is gone: no other
// goroutine can run there (and end it) meanwhile. The thread is in wait4
// for the child's whole life, which costs nothing it would not anyway.
func startLocked(cmd *exec.Cmd, done chan<- error) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	return <-started
}

// killGroup terminates the process group politely, then forcibly, and
// returns the direct child's wait error.
func killGroup(pid int, done <-chan error) error {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case err := <-done:
		// The leader is gone; make sure nothing it started lingers.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return err
	case <-time.After(killGrace):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return <-done
}
