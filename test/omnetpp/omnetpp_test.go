package omnetpp

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleRunsFromItsCopy: the copy holds a working program that finds
// OMNeT++'s libraries through Env, and its results stay in the copy.
func TestSampleRunsFromItsCopy(t *testing.T) {
	omn := Find(t)
	dir := omn.Sample(t, "aloha")
	cmd := exec.Command("./aloha", "-u", "Cmdenv", "-c", "PureAloha1", "--sim-time-limit=10s")
	cmd.Dir, cmd.Env = dir, omn.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aloha: %v\n%s", err, out)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "results", "PureAloha1-#0.sca"))
	if len(m) != 1 {
		t.Fatal("no PureAloha1-#0.sca in the copy's results")
	}
	if _, err := os.Stat(filepath.Join(omn.Root, "samples", "aloha", "results")); err == nil {
		t.Fatal("the installation's sample has a results directory: something ran in it")
	}
	out, err := exec.Command(omn.Bin("opp_run"), "-v").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "6.1") {
		t.Fatalf("opp_run -v: %v\n%s", err, out)
	}
}
