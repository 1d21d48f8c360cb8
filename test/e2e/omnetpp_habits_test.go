package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/local"
)

// TestRealRunallTakesOppRunallsCommandLine: `simswarm runall -j2 -b 3 -V
// -C DIR ./aloha ...` as one types `opp_runall -j2 -b 3 -V -C DIR ./aloha
// ...`: no "--", runall's options before the program, the program's after
// it; an explicit -b is exactly that many runs per process, as
// opp_runall's (3: the files of one batch carry one process id); .out
// files; the command line the files record is opp_runall's.
func TestRealRunallTakesOppRunallsCommandLine(t *testing.T) {
	dir, env := realSample(t, "aloha")
	r := runIn(t, filepath.Dir(dir), env, simswarmBin, "runall", "-j2", "-b", "3", "-V", "-C", "aloha", "./aloha", "-c", "PureAlohaExperiment", "-r", "0..5", "--sim-time-limit=10min")
	if r.code != 0 || !strings.Contains(r.stderr, "batch size: 3") || !strings.Contains(r.stdout, "6 runs: 6 succeeded") {
		t.Fatal(r)
	}
	files := omnetpp.Tree(t, filepath.Join(dir, "results"))
	if len(files) != 24 {
		t.Fatalf("want .out, .sca, .vci, .vec of 6 runs, got %q", files)
	}
	pids := map[string]map[int]bool{}
	for _, f := range files {
		if filepath.Ext(f) != ".sca" {
			continue
		}
		a := attrs(t, filepath.Join(dir, "results", f))
		if a["config cmdenv-redirect-output"] != "true" || a["config sim-time-limit"] != "10min" {
			t.Errorf("%s records %v", f, a)
		}
		if pids[a["attr processid"]] == nil {
			pids[a["attr processid"]] = map[int]bool{}
		}
		pids[a["attr processid"]][runOf(t, filepath.Join(dir, "results", f))] = true
	}
	if len(pids) != 2 {
		t.Fatalf("want 2 processes of 3 runs each, got %v", pids)
	}
	for _, runs := range pids {
		if len(runs) != 3 || !(runs[0] && runs[1] && runs[2] || runs[3] && runs[4] && runs[5]) {
			t.Fatalf("want runs 0..2 and 3..5 batched, got %v", pids)
		}
	}
}

// TestRealRunallShrinksItsLastBatches: with runall's default batching the
// first processes have opp_runall's batch size and the runs left after them
// go in batches sized from the durations so far (at most that size), so
// that the slots finish together: 14 aloha runs on 2 slots start as 0..4
// and 5..9, as opp_runall's, -V says so, each run is in one process, the
// processes take the runs in order, and the files are opp_runall's.
func TestRealRunallShrinksItsLastBatches(t *testing.T) {
	args := []string{"./aloha", "-c", "PureAlohaExperiment", "-r", "0..13", "--sim-time-limit=10min"}
	oppDir, env := realSample(t, "aloha")
	if r := runIn(t, oppDir, env, omnetpp.Find(t).Bin("opp_runall"), append([]string{"-j2"}, args...)...); r.code != 0 {
		t.Fatalf("opp_runall: %s", r)
	}
	dir, _ := realSample(t, "aloha")
	r := runIn(t, dir, env, simswarmBin, append([]string{"runall", "-j2", "-V"}, args...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "batches: 5 5, then as the runs' durations say") || !strings.Contains(r.stdout, "14 runs: 14 succeeded") {
		t.Fatal(r)
	}
	omnetpp.SameFiles(t, "simswarm runall", filepath.Join(oppDir, "results"), filepath.Join(dir, "results"))
	// The processes, by the process id each run's files record.
	procs := map[string][]int{}
	for _, f := range omnetpp.Tree(t, filepath.Join(dir, "results")) {
		if filepath.Ext(f) == ".sca" {
			p := filepath.Join(dir, "results", f)
			pid := attrs(t, p)["attr processid"]
			procs[pid] = append(procs[pid], runOf(t, p))
		}
	}
	var batches [][]int
	for _, runs := range procs {
		slices.Sort(runs)
		batches = append(batches, runs)
	}
	slices.SortFunc(batches, func(a, b []int) int { return a[0] - b[0] })
	if len(batches) < 3 || !slices.Equal(batches[0], []int{0, 1, 2, 3, 4}) || !slices.Equal(batches[1], []int{5, 6, 7, 8, 9}) {
		t.Fatalf("processes ran %v, want 0..4, 5..9 first", batches)
	}
	next := 10
	for _, b := range batches[2:] {
		for _, run := range b {
			if run != next {
				t.Fatalf("processes ran %v: runs out of order or twice", batches)
			}
			next++
		}
		if len(b) > 4 {
			t.Fatalf("processes ran %v: a batch larger than the 4 runs left", batches)
		}
	}
	if next != 14 {
		t.Fatalf("processes ran %v, want runs 10..13 after the first two", batches)
	}
	t.Logf("processes ran %v (opp_runall: 0..4, 5..9, 10..13)", batches)
}

// TestRealErrorsGiveTheProgramsMessage: an unknown config, a wrong ini path
// and a failing run each end with the program's own "<!> Error" line and
// exit status 1, in runall and in run; a missing program is a usage error.
func TestRealErrorsGiveTheProgramsMessage(t *testing.T) {
	dir, env := realSample(t, "aloha")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"./aloha", "-c", "Nope"}, "<!> Error: No such config: Nope"},
		{[]string{"./aloha", "-f", "nope.ini", "-c", "PureAloha1"}, "<!> Error: Cannot open ini file 'nope.ini'"},
	} {
		r := runIn(t, dir, env, simswarmBin, append([]string{"runall"}, c.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("runall %q: want exit 1 and %q:\n%s", c.args, c.want, r)
		}
	}
	if r := runIn(t, dir, env, simswarmBin, "runall", "./nope", "-c", "X"); r.code != 2 || !strings.Contains(r.stderr, "./nope") {
		t.Errorf("missing program: want exit 2 naming it:\n%s", r)
	}

	writeFile(t, dir, "fail.ini", failIni)
	project := filepath.Dir(dir)
	manifest := func(config string) {
		writeFile(t, project, "campaign.yaml", "apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata:\n  name: errs\nspec:\n"+
			"  source:\n    path: aloha\n  build:\n    command: [\"true\"]\n  simulation:\n    program: [\"./aloha\"]\n"+
			"    iniFile: fail.ini\n    config: "+config+"\n")
	}
	manifest("Nope")
	if r := runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml"); r.code != 1 || !strings.Contains(r.stderr, "<!> Error: No such config: Nope") {
		t.Errorf("run with an unknown config: want exit 1 and the program's error:\n%s", r)
	}
	manifest("Fails")
	r := runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml", "-j", "2")
	if r.code != 1 || !strings.Contains(r.stdout, "run 2 FAILED (3 attempt(s)): exit status 1: <!> Error: vector::_M_default_append") ||
		!strings.Contains(r.stdout, "5 runs: 4 succeeded, 1 failed") {
		t.Errorf("run with a failing run: want exit 1 and the program's error:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(project, "results", "Fails-n=-1-#0.out")); err == nil {
		t.Error("the failed run's .out was delivered with the results")
	}
}

// crashIni makes run 1 of Crash (a negative mean) hit a runtime error that
// debug-on-errors turns into a SIGTRAP: the process dies by a signal, and
// the message it printed before is lost with its buffers.
const crashIni = "include omnetpp.ini\n[Config Crash]\nsim-time-limit = 1min\nAloha.host[*].iaTime = exponential(${m=2,-1,3}s)\ndebug-on-errors = true\n"

// TestRealCrashingRunIsReported: a run that crashes in the middle of a
// batch fails with the signal that killed it and the program's last words
// (its stderr), exit status 1, in runall and in run; the runs around it
// are kept. In run, a wrong ini path gives the program's own error too.
func TestRealCrashingRunIsReported(t *testing.T) {
	dir, env := realSample(t, "aloha")
	writeFile(t, dir, "crash.ini", crashIni)
	r := runIn(t, dir, env, simswarmBin, "runall", "-j", "1", "-b", "3", "./aloha", "-f", "crash.ini", "-c", "Crash")
	if r.code != 1 || !strings.Contains(r.stdout, "3 runs: 2 succeeded, 1 failed") ||
		!strings.Contains(r.stdout, "run 1 FAILED (1 attempt(s)): killed by signal: trace/breakpoint trap") ||
		!strings.Contains(r.stdout, "cRuntimeError") {
		t.Fatalf("runall: want run 1 failed by its signal with the program's stack trace, runs 0 and 2 kept:\n%s", r)
	}
	recs, err := local.ReadRecords(filepath.Join(dir, "results"), "runall-Crash")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs[0].Files) == 0 || len(recs[2].Files) == 0 || len(recs[1].Files) != 0 {
		t.Fatalf("records: %v", recs)
	}

	project := filepath.Dir(dir)
	manifest := func(ini, config string) {
		writeFile(t, project, "campaign.yaml", "apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata:\n  name: crash\nspec:\n"+
			"  source:\n    path: aloha\n  build:\n    command: [\"true\"]\n  simulation:\n    program: [\"./aloha\"]\n"+
			"    iniFile: "+ini+"\n    config: "+config+"\n  retries: 0\n")
	}
	manifest("crash.ini", "Crash")
	r = runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml", "--results", "out")
	if r.code != 1 || !strings.Contains(r.stdout, "3 runs: 2 succeeded, 1 failed") ||
		!strings.Contains(r.stdout, "run 1 FAILED (1 attempt(s)): killed by signal: trace/breakpoint trap") {
		t.Fatalf("run: want run 1 failed by its signal:\n%s", r)
	}
	for _, f := range omnetpp.Tree(t, filepath.Join(project, "out")) {
		if strings.Contains(f, "m=-1") {
			t.Errorf("the crashed run's %s was delivered", f)
		}
	}
	manifest("nope.ini", "Crash")
	if r := runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml"); r.code != 1 || !strings.Contains(r.stderr, "<!> Error: Cannot open ini file 'nope.ini'") {
		t.Errorf("run with a wrong ini path: want exit 1 and the program's error:\n%s", r)
	}
}
