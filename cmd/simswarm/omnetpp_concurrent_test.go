package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
	argv, _ := json.Marshal([]string{"runall", "-C", dir, "-j", "2", "./aloha", "-c", "PureAlohaExperiment", "-r", runs})
	type result struct {
		out string
		err error
	}
	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SIMSWARM_TEST_ARGV="+string(argv))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
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
