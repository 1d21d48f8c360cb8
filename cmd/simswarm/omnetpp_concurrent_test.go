package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/omnetpp"
)

// TestRealRunallTwiceAtOnceWritesEachRunOnce: two `simswarm runall` of one
// sweep started at once in one directory. Before the results directory
// was locked both ran every run, two aloha processes wrote each file at
// once, and files held two copies of a run (two `run` lines) while both
// exited 0 and a third runall called them complete. Now the second waits
// for the first, says so, and skips every run the first completed: each
// run is simulated once and each file holds one run.
func TestRealRunallTwiceAtOnceWritesEachRunOnce(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := filepath.Join(t.TempDir(), "aloha")
	omn.SampleAt(t, "aloha", dir)
	const runs = "24..41"
	start := func() (*exec.Cmd, *bytes.Buffer) {
		var out bytes.Buffer
		return startCLIProc(t, &out, "runall", "-C", dir, "-j", "2", "./aloha", "-c", "PureAlohaExperiment", "-r", runs), &out
	}
	c1, out1 := start()
	c2, out2 := start()
	err1, err2 := c1.Wait(), c2.Wait()
	if err1 != nil || err2 != nil {
		t.Fatalf("runall exit: %v and %v\n--- first:\n%s\n--- second:\n%s", err1, err2, out1, out2)
	}
	counts := regexp.MustCompile(`\d+ runs: \d+ succeeded, \d+ failed, \d+ skipped`)
	got := []string{counts.FindString(out1.String()), counts.FindString(out2.String())}
	const ran, skipped = "18 runs: 18 succeeded, 0 failed, 0 skipped", "18 runs: 0 succeeded, 0 failed, 18 skipped"
	if !(got[0] == ran && got[1] == skipped || got[0] == skipped && got[1] == ran) {
		t.Fatalf("counts %q, want one runall to run all 18 runs and the other to skip them\n--- first:\n%s\n--- second:\n%s", got, out1, out2)
	}
	waiter := out2.String()
	if got[0] == skipped {
		waiter = out1.String()
	}
	if !strings.Contains(waiter, "is in use by another simswarm (pid ") || !strings.Contains(waiter, "waiting for it to finish") {
		t.Errorf("the runall that waited did not say so:\n%s", waiter)
	}

	scas, _ := filepath.Glob(filepath.Join(dir, "results", "*.sca"))
	if len(scas) != 18 {
		t.Fatalf("%d .sca files, want 18", len(scas))
	}
	for _, p := range scas {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "run ") {
				n++
			}
		}
		f.Close()
		if n != 1 {
			t.Errorf("%s holds %d runs, want 1", filepath.Base(p), n)
		}
	}
	out, err := cli(t, "runall", "-C", dir, "-j", "2", "./aloha", "-c", "PureAlohaExperiment", "-r", runs)
	if err != nil || !strings.Contains(out, skipped) {
		t.Errorf("a third runall: %v, want %q\n%s", err, skipped, out)
	}
}

// TestRealRunWaitsForItsWorkDirectory: `simswarm run` holds its work
// directory from copying the source to the sweep's end. While another
// simswarm holds it (here util-linux flock, as a second terminal's run
// would), run waits before copying or building anything, says so, and
// runs once it is let go. Before, a second run copied the source and
// rebuilt the program under the first one's simulations.
func TestRealRunWaitsForItsWorkDirectory(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := t.TempDir()
	omn.SampleAt(t, "aloha", filepath.Join(dir, "aloha"))
	c := sampleCampaign{name: "held", source: "aloha", config: "PureAlohaExperiment", ini: "omnetpp.ini", runs: "0..1", program: []string{"./aloha"}}
	manifest := c.write(t, dir)
	work := filepath.Join(dir, "work")
	lock := filepath.Join(work, ".simswarm", "lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("flock", lock, "sleep", "60")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	release := func() { _ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL); _ = holder.Wait() }
	defer release()
	for deadline := time.Now().Add(10 * time.Second); ; {
		// flock has the lock once a non-blocking try of ours fails.
		if out, err := exec.Command("flock", "-n", lock, "true").CombinedOutput(); err != nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("flock never took %s: %s", lock, out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	var out syncBuffer
	run := startCLIProc(t, &out, "run", "-f", manifest, "-j", "2", "--results", filepath.Join(dir, "results"), "--workdir", work)
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), work+" is in use by another simswarm"); {
		if time.Now().After(deadline) {
			_ = run.Process.Kill()
			t.Fatalf("run did not say it waits for its work directory:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(work, "src")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("run copied the source while another simswarm held its work directory (%v)", err)
	}
	release()
	if err := run.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 runs: 2 succeeded, 0 failed, 0 skipped") {
		t.Errorf("after the work directory was let go:\n%s", out.String())
	}
}

// syncBuffer is a process's output read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRealRunallStopsWhenTheIniChangesMidSweep: every process reads the
// ini as it starts, so an ini edited while a sweep runs would make the
// runs started after the edit simulate the new configuration under the
// identities (and completion records) of the old one. runall now starts
// no process after such an edit: the runs not started fail, saying why,
// and the next runall resumes by the new identities. An ini saved
// unchanged (a new modification time) stops nothing.
func TestRealRunallStopsWhenTheIniChangesMidSweep(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := filepath.Join(t.TempDir(), "aloha")
	omn.SampleAt(t, "aloha", dir)
	ini := filepath.Join(dir, "omnetpp.ini")
	args := []string{"runall", "-C", dir, "-j", "1", "-b", "1", "./aloha", "-c", "PureAlohaExperiment", "-r", "0..5"}
	counts := regexp.MustCompile(`(\d+) runs: (\d+) succeeded, (\d+) failed, (\d+) skipped`)
	// sweep runs runall, calling midway once the first run's files are in.
	sweep := func(midway func(), extra ...string) (out string, err error, succeeded, failed int) {
		t.Helper()
		var buf syncBuffer
		cmd := startCLIProc(t, &buf, append(slices.Clone(args), extra...)...)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if scas, _ := filepath.Glob(filepath.Join(dir, "results", "*.sca")); len(scas) > 0 {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("no result file after 30 s:\n%s", buf.String())
			}
		}
		midway()
		err = cmd.Wait()
		m := counts.FindStringSubmatch(buf.String())
		if m == nil {
			t.Fatalf("no summary:\n%s", buf.String())
		}
		succeeded, _ = strconv.Atoi(m[2])
		failed, _ = strconv.Atoi(m[3])
		return buf.String(), err, succeeded, failed
	}

	out, err, ok, failed := sweep(func() {
		now := time.Now().Add(time.Second)
		if err := os.Chtimes(ini, now, now); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil || ok != 6 || failed != 0 {
		t.Fatalf("the ini touched, not changed: %v, %d succeeded, %d failed\n%s", err, ok, failed, out)
	}

	if err := os.RemoveAll(filepath.Join(dir, "results")); err != nil {
		t.Fatal(err)
	}
	out, err, ok, failed = sweep(func() {
		f, err := os.OpenFile(ini, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString("\n[Config Other]\nextends = PureAlohaExperiment\n**.x = uniform(0m, 500m)\n"); err != nil {
			t.Fatal(err)
		}
	})
	if err == nil || failed == 0 || ok == 0 || ok+failed != 6 {
		t.Fatalf("the ini edited: %v, %d succeeded, %d failed; want some of the 6 runs done and the rest failed\n%s", err, ok, failed, out)
	}
	if !strings.Contains(out, "omnetpp.ini changed during the sweep") {
		t.Errorf("the failed runs do not say why:\n%s", out)
	}
	// The edit added another config: the runs finished before it are still
	// complete by their identities, and the next sweep runs the rest.
	again, err := cli(t, args...)
	if want := fmt.Sprintf("6 runs: %d succeeded, 0 failed, %d skipped", 6-ok, ok); err != nil || !strings.Contains(again, want) {
		t.Errorf("the sweep after the edit: %v, want %q\n%s", err, want, again)
	}

	// A data file the runs read, edited midway, stops the sweep too.
	if err := os.RemoveAll(filepath.Join(dir, "results")); err != nil {
		t.Fatal(err)
	}
	rate := filepath.Join(dir, "rate.txt")
	writeFileT(t, rate, "9600\n")
	writeFileT(t, filepath.Join(dir, "rate.ini"), "include omnetpp.ini\n[Config Rated]\nextends = PureAlohaExperiment\n"+
		`Aloha.txRate = double(readFile("rate.txt")) * 1bps`+"\n")
	out, err, ok, failed = sweep(func() { writeFileT(t, rate, "4800\n") }, "-f", "rate.ini", "-c", "Rated")
	if err == nil || failed == 0 || !strings.Contains(out, "rate.txt changed during the sweep") {
		t.Errorf("rate.txt edited: %v, %d succeeded, %d failed\n%s", err, ok, failed, out)
	}
}
