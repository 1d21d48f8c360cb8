package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// The tests against the real OMNeT++ share one layout in their temporary
// directory dir: the model (a sample's copy) in a directory of its own, so
// that manifests and results beside it do not change the source archive;
// campaign name's manifest at dir/name.yaml; `simswarm run`'s results in
// dir/local/name (built in dir/work/name); the cluster's pulled results in
// dir/pulled/name.

// localCluster is a controller with a builder and runners on this machine,
// on a real redis-server and a MongoDB-wire server. The CLI the test runs
// talks to it (SIMSWARM_SERVER and SIMSWARM_TOKEN are set for the test).
type localCluster struct {
	addr     string // the controller's API and dashboard
	mongoURI string
}

// startLocalCluster starts a localCluster with one builder and the given
// number of runners, all stopped when the test ends. Its workers inherit
// the test's environment (see omnetpp.Install.Setenv).
func startLocalCluster(t *testing.T, runners int) *localCluster {
	t.Helper()
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	startWorkers(t, rs.URL(), mongoURI, runners)
	return &localCluster{addr: p.addr, mongoURI: mongoURI}
}

// store opens the cluster's store, closed when the test ends.
func (c *localCluster) store(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), c.mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return st
}

// sampleCampaign is a Campaign on a copy of an OMNeT++ sample: prebuilt
// (the copy holds the built program) unless build names a command.
type sampleCampaign struct {
	name, source, config, ini, runs string
	program, results                []string
	build, artifacts                []string // a build from source
	workingDir                      string
	retries                         string // "" leaves the default
	timeout                         string // "" is 5m
}

func (c sampleCampaign) manifest() string {
	q := func(xs []string) string {
		qs := make([]string, len(xs))
		for i, x := range xs {
			qs[i] = strconv.Quote(x)
		}
		return "[" + strings.Join(qs, ", ") + "]"
	}
	m := fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: %s
spec:
  source:
    path: %s
`, c.name, c.source)
	if c.build == nil {
		m += "  build:\n    prebuilt: true\n"
	} else {
		m += "  build:\n    command: " + q(c.build) + "\n    artifacts: " + q(c.artifacts) + "\n"
	}
	m += "  simulation:\n"
	if c.workingDir != "" {
		m += "    workingDir: " + c.workingDir + "\n"
	}
	m += "    program: " + q(c.program) + "\n"
	if c.ini != "" {
		m += "    iniFile: " + c.ini + "\n"
	}
	m += "    config: " + c.config + "\n"
	if c.runs != "" {
		m += fmt.Sprintf("    runs: %q\n", c.runs)
	}
	if c.results != nil {
		m += "  results: " + q(c.results) + "\n"
	}
	if c.retries != "" {
		m += "  retries: " + c.retries + "\n"
	}
	timeout := c.timeout
	if timeout == "" {
		timeout = "5m"
	}
	return m + "  timeout: " + timeout + "\n"
}

// write writes the manifest to dir/<name>.yaml and returns its path.
func (c sampleCampaign) write(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, c.name+".yaml")
	writeFileT(t, p, c.manifest())
	return p
}

// constraintIni adds to the aloha sample a config that only the program can
// expand: it includes the sample's omnetpp.ini, has a section header without
// "Config " and a constraint that keeps 6 of the 9 (numHosts, iaMean)
// points. api/sweep refuses it; counting the product would make 18 runs
// where OMNeT++ has 12.
const constraintIni = `include omnetpp.ini

[Constrained]
sim-time-limit = 20s
repeat = 2
Aloha.numHosts = ${numHosts=5,10,15}
Aloha.host[*].iaTime = exponential(${iaMean=1,2,3}s)
constraint = $numHosts * $iaMean <= 20
`

// constrainedAloha copies the aloha sample to dir/model with constraintIni
// and returns it with the runs of Constrained that opp_run -q runs lists
// (the test expects 12).
func constrainedAloha(t *testing.T, omn *omnetpp.Install, dir string) (string, []oppcli.RunInfo) {
	t.Helper()
	model := filepath.Join(dir, "model")
	omn.SampleAt(t, "aloha", model)
	writeFileT(t, filepath.Join(model, "constraint.ini"), constraintIni)
	want, err := oppcli.QueryRuns(context.Background(), []string{"./aloha"}, model, "constraint.ini", "Constrained", "", omn.Env())
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 12 {
		t.Fatalf("opp_run -q runs lists %d runs, the test expects 12 (6 points x 2 repetitions)", len(want))
	}
	return model, want
}

// constrainedManifest writes the campaign of constraintIni's Constrained
// config on the aloha sample in dir/model, with an optional run filter.
func constrainedManifest(t *testing.T, dir, name, runs string) string {
	t.Helper()
	return sampleCampaign{name: name, source: "model", program: []string{"./aloha"}, ini: "constraint.ini", config: "Constrained",
		runs: runs, results: []string{"results/*.sca", "results/*.vec"}, timeout: "2m"}.write(t, dir)
}

// applyAndWait applies a manifest and waits for its campaign to succeed.
func applyAndWait(t *testing.T, manifest, name, timeout string) {
	t.Helper()
	mustCLI(t, "apply", "-f", manifest)
	waitSucceeded(t, name, timeout)
}

// waitSucceeded fails the test unless the campaign succeeds in time.
func waitSucceeded(t *testing.T, name, timeout string) {
	t.Helper()
	if out, err := cli(t, "wait", name, "--timeout", timeout); err != nil {
		t.Fatalf("wait %s: %v\n%s", name, err, out)
	}
}

// runLocally runs campaign name (dir/name.yaml) with `simswarm run` on this
// machine, two runs at a time, and returns its results directory.
func runLocally(t *testing.T, dir, name string) string {
	t.Helper()
	results := filepath.Join(dir, "local", name)
	if out, err := cli(t, "run", "-f", filepath.Join(dir, name+".yaml"), "-j", "2", "--results", results,
		"--workdir", filepath.Join(dir, "work", name)); err != nil {
		t.Fatalf("simswarm run %s: %v\n%s", name, err, out)
	}
	return results
}

// pullSameAsLocal pulls campaign name's results into dir/pulled/name and
// fails the test unless they are the files runLocally left, up to what two
// runs of one sweep differ in (omnetpp.SameFiles). It returns the pulled
// directory.
func pullSameAsLocal(t *testing.T, dir, name string) string {
	t.Helper()
	pulled := filepath.Join(dir, "pulled", name)
	mustCLI(t, "results", "pull", name, "-o", pulled)
	omnetpp.SameFiles(t, "campaign "+name, filepath.Join(dir, "local", name), pulled)
	return pulled
}

func writeFileT(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
