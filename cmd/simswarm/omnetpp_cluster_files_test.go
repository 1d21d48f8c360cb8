package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// subdirIni puts each run's files in a directory per config and
// iteration; ownDirIni names its own result directory.
const (
	subdirIni = `include omnetpp.ini
[Config Sub]
extends = PureAlohaExperiment
sim-time-limit = 5min
output-scalar-file = ${resultdir}/${configname}/${iterationvarsd}/rep${repetition}.sca
output-vector-file = ${resultdir}/${configname}/${iterationvarsd}/rep${repetition}.vec
`
	ownDirIni = `include omnetpp.ini
[Config Own]
extends = PureAloha1
sim-time-limit = 1min
repeat = 2
result-dir = out
`
)

// sampleCampaign is a campaign on a prebuilt OMNeT++ sample.
type sampleCampaign struct {
	name, sample, config, ini, runs string
	program, results                []string
}

func (c sampleCampaign) manifest() string {
	q := func(xs []string) string { return `["` + strings.Join(xs, `", "`) + `"]` }
	m := fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: %s
spec:
  source:
    path: %s
  build:
    prebuilt: true
  simulation:
    program: %s
    config: %s
`, c.name, c.sample, q(c.program), c.config)
	if c.ini != "" {
		m += "    iniFile: " + c.ini + "\n"
	}
	if c.runs != "" {
		m += fmt.Sprintf("    runs: %q\n", c.runs)
	}
	if c.results != nil {
		m += "  results: " + q(c.results) + "\n"
	}
	return m + "  timeout: 5m\n"
}

// TestRealClusterGivesTheFilesOfSimswarmRun: the same Campaigns on
// OMNeT++'s own samples, applied to a controller with a builder and two
// runners, give the files `simswarm run` gives on this machine, run for
// run: the same relative paths (files written into subdirectories, an
// ini's own result-dir, .out files) and the same content up to what two
// runs of one sweep differ in (run id, date, process id). In particular the
// files carry the program's own result directory, never a directory of
// simswarm's (attr resultdir, config result-dir), as opp_runall's do.
func TestRealClusterGivesTheFilesOfSimswarmRun(t *testing.T) {
	omn := omnetpp.Find(t)
	for _, kv := range omn.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" || k == "LD_LIBRARY_PATH" {
			t.Setenv(k, v)
		}
	}
	dir := t.TempDir()
	for _, s := range []string{"aloha", "tictoc", "fifo"} {
		if err := os.Rename(omn.Sample(t, s), filepath.Join(dir, s)); err != nil {
			t.Fatal(err)
		}
	}
	writeFileT(t, filepath.Join(dir, "aloha", "sub.ini"), subdirIni)
	writeFileT(t, filepath.Join(dir, "aloha", "own.ini"), ownDirIni)
	campaigns := []sampleCampaign{
		{name: "aloha", sample: "aloha", program: []string{"./aloha"}, config: "PureAlohaExperiment", runs: "0..9"},
		{name: "tictoc", sample: "tictoc", program: []string{"./tictoc", "--sim-time-limit=20000s"}, config: "TicToc18", runs: "0..9"},
		{name: "fifo", sample: "fifo", program: []string{"./fifo"}, config: "TandemQueueExperiment"},
		{name: "sub", sample: "aloha", program: []string{"./aloha"}, ini: "sub.ini", config: "Sub", runs: "0..3",
			results: []string{"results/*/*/*/*.sca", "results/*/*/*/*.vec", "results/*/*/*/*.vci", "results/*.out"}},
		{name: "own", sample: "aloha", program: []string{"./aloha"}, ini: "own.ini", config: "Own",
			results: []string{"out/*.sca", "out/*.vec", "out/*.vci", "out/*.out"}},
	}

	// On this machine first (the samples' copies stay as they are: run
	// builds in a work directory of its own).
	for _, c := range campaigns {
		p := filepath.Join(dir, c.name+".yaml")
		writeFileT(t, p, c.manifest())
		if out, err := cli(t, "run", "-f", p, "-j", "2", "--results", filepath.Join(dir, "local", c.name),
			"--workdir", filepath.Join(dir, "work", c.name)); err != nil {
			t.Fatalf("simswarm run %s: %v\n%s", c.name, err, out)
		}
	}

	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	startWorkers(t, rs.URL(), mongoURI, 2)
	for _, c := range campaigns {
		mustCLI(t, "apply", "-f", filepath.Join(dir, c.name+".yaml"))
	}
	for _, c := range campaigns {
		if out, err := cli(t, "wait", c.name, "--timeout", "600s"); err != nil {
			t.Fatalf("wait %s: %v\n%s", c.name, err, out)
		}
		pulled := filepath.Join(dir, "pulled", c.name)
		mustCLI(t, "results", "pull", c.name, "-o", pulled)
		omnetpp.SameFiles(t, "campaign "+c.name, filepath.Join(dir, "local", c.name), pulled)
		for _, f := range omnetpp.Tree(t, pulled) {
			if !strings.HasSuffix(f, ".sca") {
				continue
			}
			h, ok := oppcli.ReadFileHeader(filepath.Join(pulled, f))
			wantDir := "results"
			if c.name == "own" {
				wantDir = "out"
			}
			if !ok || h.Attrs["resultdir"] != wantDir || (h.Config["result-dir"] != "" && h.Config["result-dir"] != wantDir) {
				t.Errorf("%s/%s: attr resultdir %q, config result-dir %q: want the program's own %s", c.name, f,
					h.Attrs["resultdir"], h.Config["result-dir"], wantDir)
			}
		}
	}
	if got := omnetpp.Tree(t, filepath.Join(dir, "pulled", "sub")); len(got) != 4*3+4 {
		t.Errorf("sub: %d files, want 4 runs' .sca, .vec, .vci and .out: %q", len(got), got)
	}
}

func writeFileT(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
