package dockertest

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// machineLockPath is shared by every test process on the machine.
const machineLockPath = "/tmp/simswarm-dockertest.lock"

// machineLock serialises private daemons across test processes: `go test
// ./...` runs packages in parallel, and two swarms sharing the host's
// network namespace, kernel and two cores make each other's task starts
// and overlay DNS slow enough to break deadlines. Within a process, engines
// nest freely (a test may start a manager and join workers): the flock is
// taken by the first engine and released with the last. The kernel drops
// it when the process dies, so a crashed test never blocks the next.
var machineLock struct {
	sync.Mutex
	refs int
	f    *os.File
}

// acquireMachineLock blocks until this process holds the machine lock and
// returns the function that gives its reference back.
func acquireMachineLock(t testing.TB) (release func()) {
	t.Helper()
	machineLock.Lock()
	defer machineLock.Unlock()
	if machineLock.refs == 0 {
		f, err := os.OpenFile(machineLockPath, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatalf("open %s: %v", machineLockPath, err)
		}
		start := time.Now()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("lock %s: %v", machineLockPath, err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Logf("waited %v for another test process's private dockerd to finish", waited.Round(time.Second))
		}
		machineLock.f = f
	}
	machineLock.refs++
	var once sync.Once
	return func() {
		once.Do(func() {
			machineLock.Lock()
			defer machineLock.Unlock()
			machineLock.refs--
			if machineLock.refs == 0 {
				_ = syscall.Flock(int(machineLock.f.Fd()), syscall.LOCK_UN)
				machineLock.f.Close()
				machineLock.f = nil
			}
		})
	}
}
