package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
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
	for _, kv := range omn.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" || k == "LD_LIBRARY_PATH" {
			t.Setenv(k, v)
		}
	}
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	startWorkers(t, rs.URL(), mongoURI, 2)

	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	if err := os.Rename(omn.Sample(t, "aloha"), model); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(model, "errors.ini"), []byte(errorsIni), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := func(name, ini, config string) string {
		m := fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: %s
spec:
  source:
    path: model
  build:
    prebuilt: true
  simulation:
    program: ["./aloha"]
    iniFile: %s
    config: %s
  results: ["results/*.sca", "results/*.vec"]
  retries: 0
  timeout: 2m
`, name, ini, config)
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
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
