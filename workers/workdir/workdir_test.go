package workdir

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/testproc"
)

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// TestClaimClearsOnlyDeadOwners: an owner directory whose holder lives is
// left alone, one whose holder died is removed with the program still
// working for it, and nothing else under base is touched.
func TestClaimClearsOnlyDeadOwners(t *testing.T) {
	base, _ := filepath.EvalSymlinks(t.TempDir())
	live, dead := filepath.Join(base, prefix+"live"), filepath.Join(base, prefix+"dead")
	other := filepath.Join(base, "run-not-ours")
	for _, d := range []string{live, dead, other} {
		os.MkdirAll(filepath.Join(d, "run-1"), 0o755)
	}
	// A live sibling worker holds its directory.
	holder := exec.Command("flock", "-o", live, "sleep", "60")
	testproc.Prepare(holder)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testproc.Stop(holder) })
	// A dead worker's simulation's child, still running, marked as working
	// for the dead directory.
	orphan := exec.Command("sleep", "60")
	orphan.Env = append(os.Environ(), Env(dead))
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { orphan.Process.Kill() })
	waitErr := make(chan error, 1)
	go func() { waitErr <- orphan.Wait() }()
	time.Sleep(200 * time.Millisecond) // let flock take its lock

	d, stale, err := Claim(base)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	if !slices.Equal(stale, []string{dead}) {
		t.Fatalf("removed %v, want just %s", stale, dead)
	}
	if exists(dead) || !exists(filepath.Join(live, "run-1")) || !exists(filepath.Join(other, "run-1")) {
		t.Fatalf("dead %v, live %v, other %v", exists(dead), exists(live), exists(other))
	}
	select {
	case <-waitErr:
	case <-time.After(5 * time.Second):
		t.Fatal("the dead owner's orphan still runs")
	}

	// A second claim in the same base does not take the first one's.
	d2, stale2, err := Claim(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale2) != 0 || d2.Path == d.Path || !exists(d.Path) {
		t.Fatalf("second claim removed %v, path %s vs %s", stale2, d2.Path, d.Path)
	}
	d2.Release()
	if exists(d2.Path) {
		t.Fatal("release left the directory")
	}
	// Once the sibling dies its directory goes at the next claim.
	testproc.Stop(holder)
	d3, stale3, err := Claim(base)
	if err != nil {
		t.Fatal(err)
	}
	defer d3.Release()
	if !slices.Equal(stale3, []string{live}) {
		t.Fatalf("removed %v after the sibling died, want %s", stale3, live)
	}
}

// TestConcurrentClaimsAllSucceed: processes starting together on one host
// (or simulated workers of one process) each get a directory of their own,
// though each one's Claim clears the directories it finds unlocked - a
// newly made one too, between its MkdirTemp and its lock.
func TestConcurrentClaimsAllSucceed(t *testing.T) {
	base, _ := filepath.EvalSymlinks(t.TempDir())
	const n = 64
	for round := range 20 {
		dirs := make([]*Dir, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dirs[i], _, errs[i] = Claim(base)
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: claim %d: %v", round, i, err)
			}
			if seen[dirs[i].Path] {
				t.Fatalf("round %d: %s claimed twice", round, dirs[i].Path)
			}
			seen[dirs[i].Path] = true
			if _, err := os.Stat(dirs[i].Path); err != nil {
				t.Fatalf("round %d: claimed directory gone: %v", round, err)
			}
		}
		for _, d := range dirs {
			d.Release()
		}
	}
}

// TestClaimKillsWhatADeadOwnersProgramsKeepStarting: a dead worker's
// program that keeps starting processes (shell loops, marked as working
// for the dead directory, their cwd elsewhere) leaves none of them running
// once Claim has cleared the directory, though processes started while
// Claim looked through /proc were not in its listing.
func TestClaimKillsWhatADeadOwnersProgramsKeepStarting(t *testing.T) {
	base, _ := filepath.EvalSymlinks(t.TempDir())
	dead := filepath.Join(base, prefix+"dead")
	os.MkdirAll(filepath.Join(dead, "run-1"), 0o755)
	mark := Env(dead)
	loop := exec.Command("sh", "-c", "for i in 1 2 3 4; do (while :; do sleep 60 & done) & done; wait")
	loop.Env = append(os.Environ(), mark)
	loop.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testproc.Stop(loop) })
	go loop.Wait()
	time.Sleep(100 * time.Millisecond)

	d, stale, err := Claim(base)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	if !slices.Equal(stale, []string{dead}) {
		t.Fatalf("removed %v, want %s", stale, dead)
	}
	// The killed are gone once reaped; give init a moment.
	var left []testproc.Proc
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if left = testproc.Carrying(mark); len(left) == 0 {
			return
		}
	}
	t.Fatalf("%d processes working for the dead directory still run after Claim, e.g. %+v", len(left), left[0])
}
