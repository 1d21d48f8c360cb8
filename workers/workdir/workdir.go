package workdir

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// prefix names the owner directories Claim makes; nothing else under base
// is ever removed.
const prefix = "owner-"

// Dir is a claimed work directory.
type Dir struct {
	Path string
	lock *os.File
}

// Claim makes base (if missing) and a directory of this process's own in
// it, and removes the owner directories of processes that are gone,
// returning their paths.
func Claim(base string) (*Dir, []string, error) {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, nil, err
	}
	// Absolute and without links, as the kernel shows working directories.
	base, err := filepath.Abs(base)
	if err == nil {
		base, err = filepath.EvalSymlinks(base)
	}
	if err != nil {
		return nil, nil, err
	}
	stale, err := clearStale(base)
	if err != nil {
		return nil, stale, err
	}
	for range 10 {
		p, err := os.MkdirTemp(base, prefix)
		if err != nil {
			return nil, stale, err
		}
		// Another process's Claim may find the directory unlocked between
		// MkdirTemp and the lock and remove it, before the open (gone) or
		// after it (the lock is on a deleted directory): make another.
		f, err := lockDir(p, false)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, stale, err
		}
		if same(f, p) {
			return &Dir{Path: p, lock: f}, stale, nil
		}
		f.Close()
	}
	return nil, stale, fmt.Errorf("claim a work directory in %s: lost the race ten times", base)
}

// Release removes the directory and drops the claim.
func (d *Dir) Release() error {
	err := os.RemoveAll(d.Path)
	d.lock.Close()
	return err
}

func lockDir(p string, nonBlocking bool) (*os.File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if nonBlocking {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func same(f *os.File, p string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Lstat(p)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// clearStale removes the owner directories in base that nobody holds.
func clearStale(base string) ([]string, error) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		p := filepath.Join(base, e.Name())
		f, err := lockDir(p, true)
		if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, os.ErrNotExist) {
			continue // a live owner, or another Claim got there first
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		killInside(p)
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("remove stale %s: %w", p, err))
		} else {
			removed = append(removed, p)
		}
		f.Close()
	}
	return removed, errors.Join(errs...)
}

// EnvVar is set, in the environment of every program a worker starts, to
// the worker's claimed directory: it marks the program and what it starts
// in turn as that directory's, for killInside.
const EnvVar = "SIMSWARM_WORKDIR"

// Env is the EnvVar entry for programs started for dir.
func Env(dir string) string { return EnvVar + "=" + dir }

// killInside SIGKILLs every process that works for dir: its working
// directory is under dir, or its environment carries Env(dir). That is
// what a dead worker's programs left running (a simulation's children,
// which the parent-death signal does not reach). One look through /proc
// misses what such a program starts meanwhile (not in the listing yet, or
// in the middle of its execve, when its environment reads empty), so it
// looks again, a moment later, until a look finds nothing to kill.
func killInside(dir string) {
	for range killPasses {
		if killed := killInsideOnce(dir); killed == 0 {
			return
		}
		time.Sleep(killPause)
	}
}

const (
	// killPasses bounds the looks: a program that outlives this many
	// rounds of killing is not one that only forks.
	killPasses = 50
	// killPause lets an execve that a look caught half-way finish.
	killPause = 10 * time.Millisecond
)

// killInsideOnce is one look through /proc; it returns how many processes
// it signalled.
func killInsideOnce(dir string) int {
	mark := []byte(Env(dir) + "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	self := os.Getpid()
	killed := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cwd, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if cwd == dir || strings.HasPrefix(cwd, dir+"/") ||
			bytes.HasPrefix(env, mark) || bytes.Contains(env, append([]byte{0}, mark...)) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
	}
	return killed
}
