package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
)

// errorsIni holds two configs of the aloha sample that go wrong in one of
// their runs: in Fails, run 2 (numHosts = -1) stops with a model error;
// in Crash, run 1 (a negative mean) hits a runtime error that
// debug-on-errors turns into a SIGTRAP, a crash with no "<!> Error" line.
const errorsIni = `include omnetpp.ini
[Config Fails]
sim-time-limit = 1min
Aloha.host[*].iaTime = exponential(2s)
Aloha.numHosts = ${n=2,3,-1,4,5}

[Config Crash]
sim-time-limit = 1min
Aloha.host[*].iaTime = exponential(${m=2,-1,3}s)
debug-on-errors = true
`

// TestRealOMNeTppErrorsInDescribe: on a controller with real workers, a
// model error, a crash, an unknown config and a wrong ini path on OMNeT++'s
// own aloha sample each make 'simswarm wait' fail and show in 'simswarm
// describe' with what the program said: its "<!> Error" line, or the
// signal that killed it.
func TestRealOMNeTppErrorsInDescribe(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	startLocalCluster(t, 2)

	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	omn.SampleAt(t, "aloha", model)
	writeFileT(t, filepath.Join(model, "errors.ini"), errorsIni)
	manifest := func(name, ini, config string) string {
		return sampleCampaign{name: name, source: "model", program: []string{"./aloha"}, ini: ini, config: config,
			results: []string{"results/*.sca", "results/*.vec"}, retries: "0", timeout: "2m"}.write(t, dir)
	}
	for _, tc := range []struct {
		name, ini, config string
		want              []string // in describe's output
	}{
		{"fails", "errors.ini", "Fails", []string{"failed 1", "run 2:", "<!> Error: vector::_M_default_append"}},
		{"crash", "errors.ini", "Crash", []string{"failed 1", "run 1:", "trace/breakpoint trap"}},
		{"noconfig", "errors.ini", "Nope", []string{"<!> Error: No such config: Nope"}},
		{"noini", "nope.ini", "Fails", []string{"<!> Error: Cannot open ini file 'nope.ini'"}},
	} {
		mustCLI(t, "apply", "-f", manifest(tc.name, tc.ini, tc.config))
		out, err := cli(t, "wait", tc.name, "--timeout", "240s")
		if err == nil {
			t.Errorf("%s: wait succeeded:\n%s", tc.name, out)
		}
		desc := mustCLI(t, "describe", "campaign", tc.name)
		for _, w := range tc.want {
			if !strings.Contains(desc, w) {
				t.Errorf("%s: describe does not say %q:\n%s", tc.name, w, desc)
			}
		}
	}
}
