package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
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
	omn.Setenv(t)
	dir := t.TempDir()
	for _, s := range []string{"aloha", "tictoc", "fifo"} {
		omn.SampleAt(t, s, filepath.Join(dir, s))
	}
	writeFileT(t, filepath.Join(dir, "aloha", "sub.ini"), subdirIni)
	writeFileT(t, filepath.Join(dir, "aloha", "own.ini"), ownDirIni)
	campaigns := []sampleCampaign{
		{name: "aloha", source: "aloha", program: []string{"./aloha"}, config: "PureAlohaExperiment", runs: "0..9"},
		{name: "tictoc", source: "tictoc", program: []string{"./tictoc", "--sim-time-limit=20000s"}, config: "TicToc18", runs: "0..9"},
		{name: "fifo", source: "fifo", program: []string{"./fifo"}, config: "TandemQueueExperiment"},
		{name: "sub", source: "aloha", program: []string{"./aloha"}, ini: "sub.ini", config: "Sub", runs: "0..3",
			results: []string{"results/*/*/*/*.sca", "results/*/*/*/*.vec", "results/*/*/*/*.vci", "results/*.out"}},
		{name: "own", source: "aloha", program: []string{"./aloha"}, ini: "own.ini", config: "Own",
			results: []string{"out/*.sca", "out/*.vec", "out/*.vci", "out/*.out"}},
	}

	// On this machine first (the samples' copies stay as they are: run
	// builds in a work directory of its own).
	for _, c := range campaigns {
		c.write(t, dir)
		runLocally(t, dir, c.name)
	}

	startLocalCluster(t, 2)
	for _, c := range campaigns {
		mustCLI(t, "apply", "-f", filepath.Join(dir, c.name+".yaml"))
	}
	for _, c := range campaigns {
		waitSucceeded(t, c.name, "600s")
		pulled := pullSameAsLocal(t, dir, c.name)
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
