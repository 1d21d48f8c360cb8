package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
)

// TestRealDeterministicFailureIsSaidInDescribe: a run of OMNeT++'s aloha
// that fails in network setup (numHosts = -1) fails the same way on each
// of its three attempts on the workers; describe shows the program's own
// "<!> Error" line (which Cmdenv writes into the redirected .out file, not
// to stderr) and says that every attempt failed the same way, while the
// campaign's other run succeeds.
func TestRealDeterministicFailureIsSaidInDescribe(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := t.TempDir()
	omn.SampleAt(t, "aloha", filepath.Join(dir, "aloha"))
	writeFileT(t, filepath.Join(dir, "aloha", "fail.ini"),
		"include omnetpp.ini\n[Config Fails]\nsim-time-limit = 1min\nAloha.host[*].iaTime = exponential(2s)\nAloha.numHosts = ${n=2,-1}\n")
	manifest := sampleCampaign{name: "fails", source: "aloha", program: []string{"./aloha"},
		ini: "fail.ini", config: "Fails", retries: "2"}.write(t, dir)

	startLocalCluster(t, 2)
	mustCLI(t, "apply", "-f", manifest)
	if out, err := cli(t, "wait", "fails", "--timeout", "300s"); err == nil {
		t.Fatalf("wait: a campaign with a failing run succeeded\n%s", out)
	}
	out := mustCLI(t, "describe", "campaign", "fails")
	if !strings.Contains(out, "total 2, succeeded 1, failed 1") || !strings.Contains(out, "run 1: exit ") ||
		!strings.Contains(out, "after 3 attempt(s)") || !strings.Contains(out, "| <!> Error") || strings.Contains(out, "<!> Error -- see") ||
		!strings.Contains(out, "every attempt failed the same way") {
		t.Fatalf("describe does not show run 1's deterministic failure with the program's error:\n%s", out)
	}
}
