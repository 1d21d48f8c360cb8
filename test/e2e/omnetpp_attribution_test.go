package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/local"
)

// Result files that do not say which run wrote them, or that several runs
// write: each must be credited to the run the program says wrote it, or
// refused with a reason, never credited by guesswork.

// headerlessIni gives each run of Logs files whose names share nothing
// with its .sca: an event log and a Cmdenv output file of its own, and a
// SQLite vector file (no text header at all) in a directory of its own.
// Only the .sca's header names them (config eventlog-file, ...).
const headerlessIni = `include omnetpp.ini
[Config Logs]
extends = PureAloha1
sim-time-limit = 1min
Aloha.numHosts = ${n=2,3,4,5}
record-eventlog = true
eventlog-file = ${resultdir}/elog/run${runnumber}.elog
cmdenv-output-file = ${resultdir}/log/${configname}-${runnumber}.txt
outputvectormanager-class = "omnetpp::envir::SqliteOutputVectorManager"
output-vector-file = ${resultdir}/vec/${configname}-${runnumber}.vec
`

// logsFiles are run's files under Logs (n = run + 2).
func logsFiles(run int) []string {
	return []string{
		fmt.Sprintf("Logs-n=%d-#0.sca", run+2),
		fmt.Sprintf("elog/run%d.elog", run),
		fmt.Sprintf("log/Logs-%d.txt", run),
		fmt.Sprintf("vec/Logs-%d.vec", run),
	}
}

// TestRealHeaderlessFilesGoToTheirRun: an event log, a redirected output
// and a SQLite vector file named by the ini are each credited to the run
// whose header names them (so deleting one redoes that run), and `run`
// delivers them all.
func TestRealHeaderlessFilesGoToTheirRun(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "logs.ini", headerlessIni)
	args := []string{"runall", "-j", "2", "-b", "2", "./aloha", "-f", "logs.ini", "-c", "Logs"}
	if r := runIn(t, dir, env, simswarmBin, args...); r.code != 0 {
		t.Fatal(r)
	}
	results := filepath.Join(dir, "results")
	recs, err := local.ReadRecords(results, "runall-Logs")
	if err != nil {
		t.Fatal(err)
	}
	for run := range 4 {
		var got []string
		for _, f := range recs[run].Files {
			got = append(got, f.Name)
		}
		slices.Sort(got)
		if want := logsFiles(run); !slices.Equal(got, want) {
			t.Errorf("run %d's record lists %q, want %q", run, got, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// The SQLite vector file of run 2 is gone: run 2, and only it, is redone.
	if err := os.Remove(filepath.Join(results, "vec", "Logs-2.vec")); err != nil {
		t.Fatal(err)
	}
	if r := runIn(t, dir, env, simswarmBin, args...); r.code != 0 || !strings.Contains(r.stdout, "4 runs: 1 succeeded, 0 failed, 3 skipped") {
		t.Fatalf("want exactly run 2 redone:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(results, "vec", "Logs-2.vec")); err != nil {
		t.Fatal(err)
	}

	// `run` delivers every file its globs select.
	project := filepath.Dir(dir)
	writeFile(t, project, "campaign.yaml", `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: logs
spec:
  source:
    path: aloha
  build:
    command: ["true"]
  simulation:
    program: ["./aloha"]
    iniFile: logs.ini
    config: Logs
  results: ["results/*.sca", "results/*/*"]
`)
	if r := runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml", "-j", "2", "--results", "out"); r.code != 0 {
		t.Fatal(r)
	}
	var want []string
	for run := range 4 {
		want = append(want, logsFiles(run)...)
	}
	slices.Sort(want)
	if got := omnetpp.Tree(t, filepath.Join(project, "out")); !slices.Equal(got, want) {
		t.Fatalf("run delivered\n%q\nwant\n%q", got, want)
	}
}

// TestRealUnattributableFilesAreRefused: with SQLite scalar and vector
// files nothing says which run wrote which file: every run fails, naming
// the files it could not credit, rather than succeed with a guess.
func TestRealUnattributableFilesAreRefused(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "sqlite.ini", `include omnetpp.ini
[Config Lite]
extends = PureAloha1
sim-time-limit = 1min
Aloha.numHosts = ${n=2,3}
outputscalarmanager-class = "omnetpp::envir::SqliteOutputScalarManager"
outputvectormanager-class = "omnetpp::envir::SqliteOutputVectorManager"
`)
	r := runIn(t, dir, env, simswarmBin, "runall", "-j", "1", "./aloha", "-f", "sqlite.ini", "-c", "Lite")
	if r.code != 1 || !strings.Contains(r.stdout, "2 runs: 0 succeeded, 2 failed") ||
		!strings.Contains(r.stdout, "Lite-n=2-#0.sca") || !strings.Contains(r.stdout, "not an OMNeT++ text result file") {
		t.Fatalf("want both runs refused, naming the files that say no run:\n%s", r)
	}
}

// perRunDirIni gives every run a result directory of its own.
const perRunDirIni = `include omnetpp.ini
[Config Dirs]
extends = PureAloha1
sim-time-limit = 1min
Aloha.numHosts = ${n=2,3,4,5}
result-dir = results/${configname}/${runnumber}
`

// TestRealPerRunResultDirectories: with result-dir varying per run, runall
// finds each run's files in its own directory (opp_runall's layout),
// credits them to it and resumes; run delivers the same tree.
func TestRealPerRunResultDirectories(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "dirs.ini", perRunDirIni)
	var want []string
	for run := range 4 {
		for _, ext := range []string{".out", ".sca", ".vci", ".vec"} {
			want = append(want, fmt.Sprintf("Dirs/%d/Dirs-n=%d-#0%s", run, run+2, ext))
		}
	}
	args := []string{"runall", "-j", "2", "-b", "2", "./aloha", "-f", "dirs.ini", "-c", "Dirs"}
	r := runIn(t, dir, env, simswarmBin, args...)
	if r.code != 0 {
		t.Fatal(r)
	}
	if got := omnetpp.Tree(t, filepath.Join(dir, "results")); !slices.Equal(got, want) {
		t.Fatalf("runall left\n%q\nwant\n%q", got, want)
	}
	recs, err := local.ReadRecords(filepath.Join(dir, "results"), "runall-Dirs")
	if err != nil {
		t.Fatal(err)
	}
	for run := range 4 {
		if len(recs[run].Files) != 4 {
			t.Errorf("run %d's record lists %v, want its 4 files", run, recs[run].Files)
		}
		for _, f := range recs[run].Files {
			if !strings.HasPrefix(f.Name, fmt.Sprintf("Dirs/%d/", run)) {
				t.Errorf("run %d's record lists %s", run, f.Name)
			}
		}
	}
	if r := runIn(t, dir, env, simswarmBin, args...); r.code != 0 || !strings.Contains(r.stdout, "4 runs: 0 succeeded, 0 failed, 4 skipped") {
		t.Fatalf("second runall:\n%s", r)
	}

	project := filepath.Dir(dir)
	writeFile(t, project, "campaign.yaml", `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: dirs
spec:
  source:
    path: aloha
  build:
    command: ["true"]
  simulation:
    program: ["./aloha"]
    iniFile: dirs.ini
    config: Dirs
  results: ["results/*/*/*"]
`)
	if r := runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml", "-j", "2", "--results", "out"); r.code != 0 {
		t.Fatal(r)
	}
	if got := omnetpp.Tree(t, filepath.Join(project, "out")); !slices.Equal(got, want) {
		t.Fatalf("run delivered\n%q\nwant\n%q", got, want)
	}
}

// appendIni makes all runs append their scalars to one file.
const appendIni = `include omnetpp.ini
[Config Shared]
extends = PureAloha1
sim-time-limit = 1min
Aloha.numHosts = ${n=2,3,4}
output-scalar-file = ${resultdir}/all.sca
output-scalar-file-append = true
`

// TestRealAppendedResultFilesAreRefused: a scalar file that every run
// appends to belongs to no one run: runall and run refuse to credit it,
// saying why, and exit 1; no record lists it, and run does not deliver a
// file that the next run would overwrite.
func TestRealAppendedResultFilesAreRefused(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "append.ini", appendIni)
	r := runIn(t, dir, env, simswarmBin, "runall", "-j", "1", "-b", "3", "./aloha", "-f", "append.ini", "-c", "Shared")
	if r.code != 1 || !strings.Contains(r.stdout, "all.sca") || !strings.Contains(r.stdout, "output-scalar-file-append") {
		t.Fatalf("want the shared file refused:\n%s", r)
	}
	recs, err := local.ReadRecords(filepath.Join(dir, "results"), "runall-Shared")
	if err != nil {
		t.Fatal(err)
	}
	for run, rec := range recs {
		for _, f := range rec.Files {
			if f.Name == "all.sca" {
				t.Errorf("run %d's record lists all.sca", run)
			}
		}
	}

	project := filepath.Dir(dir)
	writeFile(t, project, "campaign.yaml", `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: shared
spec:
  source:
    path: aloha
  build:
    command: ["true"]
  simulation:
    program: ["./aloha"]
    iniFile: append.ini
    config: Shared
  results: ["results/*"]
`)
	r = runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml", "-j", "1", "--results", "out")
	if r.code != 1 || !strings.Contains(r.stdout, "output-scalar-file-append") {
		t.Fatalf("run: want the shared file refused:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(project, "out", "all.sca")); err == nil {
		t.Error("run delivered the shared all.sca as one run's")
	}
}

// sameNameIni makes every run write its scalars to one file name, each
// run replacing the file the one before it wrote.
const sameNameIni = `include omnetpp.ini
[Config Same]
extends = PureAloha1
sim-time-limit = 1min
Aloha.numHosts = ${n=2,3,4}
output-scalar-file = ${resultdir}/${configname}.sca
`

// TestRealOneFileNameForSeveralRunsIsRefused: when the runs of a config
// write one file name in turn, the file is no one run's: runall and run
// fail every run that wrote it (the earlier ones lost their file to the
// later ones), saying so, once (another attempt would do the same), and a
// second runall does not take any of them for complete work.
func TestRealOneFileNameForSeveralRunsIsRefused(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "same.ini", sameNameIni)
	args := []string{"runall", "-j", "1", "-b", "3", "./aloha", "-f", "same.ini", "-c", "Same"}
	r := runIn(t, dir, env, simswarmBin, args...)
	if r.code != 1 || !strings.Contains(r.stdout, "Same.sca") || !strings.Contains(r.stdout, "3 runs: 0 succeeded, 3 failed") {
		t.Fatalf("want every run that wrote Same.sca failed, naming it:\n%s", r)
	}
	recs, err := local.ReadRecords(filepath.Join(dir, "results"), "runall-Same")
	if err != nil {
		t.Fatal(err)
	}
	for run, rec := range recs {
		if len(rec.Files) > 0 {
			t.Errorf("run %d has a record: %+v", run, rec)
		}
	}
	if r := runIn(t, dir, env, simswarmBin, args...); r.code != 1 || strings.Contains(r.stdout, "skipped") && !strings.Contains(r.stdout, "0 skipped") {
		t.Fatalf("second runall:\n%s", r)
	}

	project := filepath.Dir(dir)
	writeFile(t, project, "campaign.yaml", `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: same
spec:
  source:
    path: aloha
  build:
    command: ["true"]
  simulation:
    program: ["./aloha"]
    iniFile: same.ini
    config: Same
  results: ["results/*"]
`)
	r = runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml", "-j", "1", "--results", "out")
	if r.code != 1 || !strings.Contains(r.stdout, "3 runs: 0 succeeded, 3 failed") || !strings.Contains(r.stdout, "Same.sca") ||
		strings.Contains(r.stdout, "(3 attempt(s))") {
		t.Fatalf("run: want every run that wrote Same.sca failed once, naming it:\n%s", r)
	}
	// A file that was delivered before the next run overwrote it is the
	// first run's own.
	if _, err := os.Stat(filepath.Join(project, "out", "Same.sca")); err == nil {
		if got := runOf(t, filepath.Join(project, "out", "Same.sca")); got != 0 {
			t.Fatalf("out/Same.sca is run %d's, delivered over run 0's", got)
		}
	}
}
