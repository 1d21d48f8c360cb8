package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockPoll is how often a waiting LockDir tries again.
const lockPoll = 100 * time.Millisecond

// LockDir takes a directory's simswarm lock, waiting (and saying so on
// progress) while another process holds it; it returns ctx's error if ctx
// ends first. Execute holds its results directory's: two sweeps writing
// into one directory at once would write the same files from two
// processes (a file holding two copies of a run, each process crediting it
// as its own, and a journal that calls the mixture complete); with the
// lock the second waits, then finds the first one's runs complete and
// skips them. `simswarm run` holds its work directory's from copying the
// source to the sweep's end, so that a second run neither rebuilds the
// program under the first one's simulations nor runs a half-built one.
// The lock is flock(2) on DIR/.simswarm/lock: the kernel drops it when its
// holder exits, however it exits, so it never outlives a crash. The file
// holds the holder's pid, for the message.
func LockDir(ctx context.Context, dir string, progress io.Writer) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, stateDir, "lock")
	f, err := openState(dir, stateDir+"/lock", os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	waited := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
			// A filesystem without locks (some network ones) still runs
			// sweeps, as before the lock, one at a time by the user's care.
			if progress != nil {
				fmt.Fprintf(progress, "warning: cannot lock %s (%v): a second simswarm using it at once would not wait\n", dir, err)
			}
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		pid := holder(f)
		if pid == os.Getpid() {
			// Waiting would be forever.
			f.Close()
			return nil, fmt.Errorf("%s is already in use by this simswarm (is it both the work and the results directory?)", dir)
		}
		if !waited && progress != nil {
			by := ""
			if pid > 0 {
				by = fmt.Sprintf(" (pid %d)", pid)
			}
			fmt.Fprintf(progress, "%s is in use by another simswarm%s: waiting for it to finish (its complete runs will be skipped)\n", dir, by)
		}
		waited = true
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
	// Best effort: the pid only words the message of a process waiting.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// holder is the pid recorded in the lock file f, 0 if none.
func holder(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
