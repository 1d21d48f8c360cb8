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

// lockPoll is how often a waiting Execute tries the results directory's
// lock again.
const lockPoll = 100 * time.Millisecond

// lockPath is the lock file of a results directory.
func lockPath(resultsDir string) string {
	return filepath.Join(resultsDir, ".simswarm", "lock")
}

// lockResults takes the results directory's lock for one Execute, waiting
// (and saying so on progress) while another process holds it; it returns
// ctx's error if ctx ends first. Two sweeps writing into one directory at
// once would write the same files from two processes: a file holding two
// copies of a run, each process crediting it as its own, and a journal
// that calls the mixture complete. With the lock the second waits, then
// finds the first one's runs complete and skips them. The lock is flock(2)
// on DIR/.simswarm/lock: the kernel drops it when its holder exits,
// however it exits, so it never outlives a crash. The file holds the
// holder's pid, for the message.
func lockResults(ctx context.Context, resultsDir string, progress io.Writer) (unlock func(), err error) {
	path := lockPath(resultsDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
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
				fmt.Fprintf(progress, "warning: cannot lock %s (%v): a second sweep into it at once would not wait\n", resultsDir, err)
			}
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !waited && progress != nil {
			fmt.Fprintf(progress, "%s is in use by another simswarm%s: waiting for it to finish (its complete runs will be skipped)\n",
				resultsDir, holder(path))
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

// holder words the pid recorded in the lock file at path, "" if none.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}
