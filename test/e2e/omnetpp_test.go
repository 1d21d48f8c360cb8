package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/local"
)

// The tests in this file run simswarm against the real OMNeT++ 6.1.0 and
// its samples (test/omnetpp), each in a private copy of the sample.

// realSample copies an OMNeT++ sample for the test and returns its
// directory and the environment that runs OMNeT++.
func realSample(t *testing.T, name string) (string, []string) {
	t.Helper()
	omn := omnetpp.Find(t)
	return omn.Sample(t, name), omn.Env()
}

// attrs reads the run attributes (attr NAME VALUE) and config lines of an
// OMNeT++ result file's header.
func attrs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "file", "version", "itervar":
		case "run":
			out["run"] = v
		case "attr", "config":
			name, val, _ := strings.Cut(v, " ")
			if _, seen := out[k+" "+name]; !seen {
				out[k+" "+name] = val
			}
		default:
			return out
		}
	}
	return out
}

// runOf is the run number a result file says it belongs to.
func runOf(t *testing.T, path string) int {
	t.Helper()
	n, err := strconv.Atoi(attrs(t, path)["attr runnumber"])
	if err != nil {
		t.Fatalf("%s: no attr runnumber", path)
	}
	return n
}

// TestRealBatchCreditsFilesToTheirRuns: TicToc18 names its files
// TicToc18-N=<N>-#<repetition>, so "#3" is run 3 only for N=2. In batches
// of 5 every run's record must list exactly the files that say they are
// that run's, and deleting one run's files must redo that run, no other.
func TestRealBatchCreditsFilesToTheirRuns(t *testing.T) {
	dir, env := realSample(t, "tictoc")
	args := []string{"runall", "-j", "2", "-b", "5", "--", "./tictoc", "-c", "TicToc18", "-r", "0..9", "--sim-time-limit=20000s"}
	r := runIn(t, dir, env, simswarmBin, args...)
	if r.code != 0 {
		t.Fatal(r)
	}
	results := filepath.Join(dir, "results")
	recs, err := local.ReadRecords(results, "runall-TicToc18")
	if err != nil {
		t.Fatal(err)
	}
	for run := range 10 {
		rec, ok := recs[run]
		if !ok || len(rec.Files) < 3 {
			t.Fatalf("run %d: record %+v, want its .sca, .vec and .vci", run, rec)
		}
		for _, f := range rec.Files {
			if ext := filepath.Ext(f.Name); ext == ".sca" || ext == ".vec" || ext == ".vci" {
				if got := runOf(t, filepath.Join(results, f.Name)); got != run {
					t.Errorf("run %d's record lists %s, which is run %d's", run, f.Name, got)
				}
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// Run 7 is N=4, repetition 3: its files are TicToc18-N=4-#3.*.
	for _, f := range recs[7].Files {
		if err := os.Remove(filepath.Join(results, f.Name)); err != nil {
			t.Fatal(err)
		}
	}
	r = runIn(t, dir, env, simswarmBin, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "10 runs: 1 succeeded, 0 failed, 9 skipped") {
		t.Fatalf("want exactly run 7 redone:\n%s", r)
	}
	for _, f := range recs[7].Files {
		if _, err := os.Stat(filepath.Join(results, f.Name)); err != nil {
			t.Errorf("run 7's %s was not redone: %v", f.Name, err)
		}
	}
}

// subIni puts each run's files in a directory per config and iteration.
const subIni = `include omnetpp.ini
[Config Sub]
extends = PureAlohaExperiment
sim-time-limit = 5min
output-scalar-file = ${resultdir}/${configname}/${iterationvarsd}/rep${repetition}.sca
output-vector-file = ${resultdir}/${configname}/${iterationvarsd}/rep${repetition}.vec
`

// subFiles are the files runs 0..3 of Sub leave (opp_runall's .out files
// keep their default, flat name).
var subFiles = []string{
	"results/Sub-numHosts=10,iaMean=1-#0.out", "results/Sub-numHosts=10,iaMean=1-#1.out",
	"results/Sub-numHosts=10,iaMean=2-#0.out", "results/Sub-numHosts=10,iaMean=2-#1.out",
	"results/Sub/numHosts=10/iaMean=1/rep0.sca", "results/Sub/numHosts=10/iaMean=1/rep0.vci", "results/Sub/numHosts=10/iaMean=1/rep0.vec",
	"results/Sub/numHosts=10/iaMean=1/rep1.sca", "results/Sub/numHosts=10/iaMean=1/rep1.vci", "results/Sub/numHosts=10/iaMean=1/rep1.vec",
	"results/Sub/numHosts=10/iaMean=2/rep0.sca", "results/Sub/numHosts=10/iaMean=2/rep0.vci", "results/Sub/numHosts=10/iaMean=2/rep0.vec",
	"results/Sub/numHosts=10/iaMean=2/rep1.sca", "results/Sub/numHosts=10/iaMean=2/rep1.vci", "results/Sub/numHosts=10/iaMean=2/rep1.vec",
}

// TestRealResultFilesInSubdirectories: files written below the result
// directory keep their relative paths, in runall and in run, and a second
// run finds them complete.
func TestRealResultFilesInSubdirectories(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "sub.ini", subIni)
	args := []string{"runall", "-j", "2", "-b", "2", "--", "./aloha", "-f", "sub.ini", "-c", "Sub", "-r", "0..3"}
	if r := runIn(t, dir, env, simswarmBin, args...); r.code != 0 {
		t.Fatal(r)
	}
	if got := omnetpp.Tree(t, dir+"/results"); !slices.Equal(got, trimPrefix(subFiles, "results/")) {
		t.Fatalf("runall left\n%q\nwant\n%q", got, trimPrefix(subFiles, "results/"))
	}
	if r := runIn(t, dir, env, simswarmBin, args...); r.code != 0 || !strings.Contains(r.stdout, "4 runs: 0 succeeded, 0 failed, 4 skipped") {
		t.Fatalf("second runall:\n%s", r)
	}

	// The same through a manifest whose globs reach into the directories.
	project := filepath.Dir(dir)
	writeFile(t, project, "campaign.yaml", `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: sub
spec:
  source:
    path: aloha
  build:
    command: ["true"]
  simulation:
    program: ["./aloha"]
    iniFile: sub.ini
    config: Sub
    runs: "0..3"
  results: ["results/*/*/*/*.sca", "results/*/*/*/*.vec", "results/*/*/*/*.vci", "results/*.out"]
`)
	run := []string{"run", "-f", "campaign.yaml", "-j", "2", "--results", "out"}
	if r := runIn(t, project, env, simswarmBin, run...); r.code != 0 {
		t.Fatal(r)
	}
	if got := omnetpp.Tree(t, filepath.Join(project, "out")); !slices.Equal(got, trimPrefix(subFiles, "results/")) {
		t.Fatalf("run left\n%q\nwant\n%q", got, trimPrefix(subFiles, "results/"))
	}
	if r := runIn(t, project, env, simswarmBin, run...); r.code != 0 || !strings.Contains(r.stdout, "4 runs: 0 succeeded, 0 failed, 4 skipped") {
		t.Fatalf("second run:\n%s", r)
	}
}

func trimPrefix(names []string, prefix string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimPrefix(n, prefix)
	}
	return out
}

// TestRealIniFilesPassThrough: ini files given on the command line, as
// -f options or positionally, reach the program as the user gave them.
func TestRealIniFilesPassThrough(t *testing.T) {
	dir, env := realSample(t, "fifo")
	// alone.ini has its own [General]: a single queue with a fast server.
	writeFile(t, dir, "alone.ini", "[General]\nnetwork = SingleQueue\nsim-time-limit = 100s\n**.serviceTime = 0.5s\n**.interarrivalTime = 1s\n")
	if r := runIn(t, dir, env, simswarmBin, "runall", "--", "./fifo", "alone.ini"); r.code != 0 {
		t.Fatal(r)
	}
	a := attrs(t, filepath.Join(dir, "results", "General-#0.sca"))
	if a["attr inifile"] != "alone.ini" || a["attr network"] != "SingleQueue" {
		t.Fatalf("the run did not simulate alone.ini: inifile %q, network %q", a["attr inifile"], a["attr network"])
	}
	// omnetpp.ini's [General] (cpu-time-limit = 300s) must not creep in.
	if v, ok := a["config cpu-time-limit"]; ok {
		t.Fatalf("the run read omnetpp.ini too: config cpu-time-limit %s", v)
	}
	// Two -f files: the second adds a config to the first.
	writeFile(t, dir, "extra.ini", "[Config Extra]\nsim-time-limit = 50s\n")
	if r := runIn(t, dir, env, simswarmBin, "runall", "--", "./fifo", "-f", "alone.ini", "-f", "extra.ini", "-c", "Extra"); r.code != 0 {
		t.Fatal(r)
	}
	a = attrs(t, filepath.Join(dir, "results", "Extra-#0.sca"))
	if a["attr network"] != "SingleQueue" || a["config sim-time-limit"] != "50s" {
		t.Fatalf("Extra did not combine both files: %v", a)
	}
}

// TestRealResumeSeesIniEdits: a run is complete only for the same
// program, arguments and ini content.
func TestRealResumeSeesIniEdits(t *testing.T) {
	dir, env := realSample(t, "aloha")
	ini := "include omnetpp.ini\n[Config Edit]\nextends = PureAloha1\nsim-time-limit = %s\n"
	writeFile(t, dir, "edit.ini", strings.Replace(ini, "%s", "1min", 1))
	args := []string{"runall", "--", "./aloha", "-f", "edit.ini", "-c", "Edit"}
	if r := runIn(t, dir, env, simswarmBin, args...); r.code != 0 {
		t.Fatal(r)
	}
	writeFile(t, dir, "edit.ini", strings.Replace(ini, "%s", "2min", 1))
	r := runIn(t, dir, env, simswarmBin, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "1 runs: 1 succeeded, 0 failed, 0 skipped") {
		t.Fatalf("an edited ini must redo the run:\n%s", r)
	}
	if got := attrs(t, filepath.Join(dir, "results", "Edit-#0.sca"))["config sim-time-limit"]; got != "2min" {
		t.Fatalf("Edit-#0.sca is from sim-time-limit %s, want 2min", got)
	}
	// Another argument is another result too.
	r = runIn(t, dir, env, simswarmBin, append(args, "--seed-set=7")...)
	if r.code != 0 || !strings.Contains(r.stdout, "1 runs: 1 succeeded") {
		t.Fatalf("another argument must redo the run:\n%s", r)
	}
}

// TestRealResultDirIsTheProgramsOwn: without --results, the program's
// result directory (the ini's result-dir) is used, and the files record it
// as opp_runall's do: no simswarm directory, no config result-dir line.
func TestRealResultDirIsTheProgramsOwn(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "own.ini", "include omnetpp.ini\n[Config Own]\nextends = PureAloha1\nsim-time-limit = 1min\nresult-dir = out\n")
	if r := runIn(t, dir, env, simswarmBin, "runall", "--", "./aloha", "-f", "own.ini", "-c", "Own"); r.code != 0 {
		t.Fatal(r)
	}
	got := omnetpp.Tree(t, filepath.Join(dir, "out"))
	if want := []string{"Own-#0.out", "Own-#0.sca", "Own-#0.vci", "Own-#0.vec"}; !slices.Equal(got, want) {
		t.Fatalf("out/ holds %q, want %q", got, want)
	}
	a := attrs(t, filepath.Join(dir, "out", "Own-#0.sca"))
	if a["attr resultdir"] != "out" || a["config result-dir"] != "out" {
		t.Fatalf("resultdir %q, config result-dir %q: want the ini's out", a["attr resultdir"], a["config result-dir"])
	}
	if r := runIn(t, dir, env, simswarmBin, "runall", "--", "./aloha", "-c", "PureAloha1", "--sim-time-limit=1min"); r.code != 0 {
		t.Fatal(r)
	}
	a = attrs(t, filepath.Join(dir, "results", "PureAloha1-#0.sca"))
	if _, forced := a["config result-dir"]; forced || a["attr resultdir"] != "results" {
		t.Fatalf("resultdir %q, config result-dir %q: want results and none", a["attr resultdir"], a["config result-dir"])
	}
}

// failIni makes run 2 of Fails (numHosts = -1) fail in network setup.
const failIni = "include omnetpp.ini\n[Config Fails]\nsim-time-limit = 10min\nAloha.host[*].iaTime = exponential(2s)\nAloha.numHosts = ${n=2,3,-1,4,5}\n"

// TestRealFailingBatchKeepsFinishedRuns: in a batch of five where the third
// run fails, the others are kept and recorded, the failure names the run
// and carries the program's own error, and the exit status says so.
func TestRealFailingBatchKeepsFinishedRuns(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "fail.ini", failIni)
	r := runIn(t, dir, env, simswarmBin, "runall", "-j", "1", "-b", "5", "--", "./aloha", "-f", "fail.ini", "-c", "Fails")
	if r.code != 1 || !strings.Contains(r.stdout, "5 runs: 4 succeeded, 1 failed") || !strings.Contains(r.stdout, "run 2 FAILED") ||
		!strings.Contains(r.stdout, "<!> Error: vector::_M_default_append") {
		t.Fatalf("want runs 0, 1, 3, 4 kept and run 2 failed with the program's error:\n%s", r)
	}
	recs, err := local.ReadRecords(filepath.Join(dir, "results"), "runall-Fails")
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []int{0, 1, 3, 4} {
		if len(recs[run].Files) == 0 {
			t.Errorf("run %d has no record", run)
		}
	}
	if _, ok := recs[2]; ok {
		t.Error("the failed run 2 has a record")
	}
}
