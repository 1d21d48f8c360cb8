package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealRunallTakesOppRunallsCommandLine: `simswarm runall -j2 -V -C DIR
// ./aloha ...` as one types `opp_runall -j2 -V -C DIR ./aloha ...`: no
// "--", runall's options before the program, the program's after it;
// batches of opp_runall's default size (min(5, ceil(6 / 2)) = 3 runs per
// process: the files of one batch carry one process id); .out files; the
// command line the files record is opp_runall's.
func TestRealRunallTakesOppRunallsCommandLine(t *testing.T) {
	dir, env := realSample(t, "aloha")
	r := runIn(t, filepath.Dir(dir), env, simswarmBin, "runall", "-j2", "-V", "-C", "aloha", "./aloha", "-c", "PureAlohaExperiment", "-r", "0..5", "--sim-time-limit=10min")
	if r.code != 0 || !strings.Contains(r.stderr, "batch size: 3") || !strings.Contains(r.stdout, "6 runs: 6 succeeded") {
		t.Fatal(r)
	}
	files := tree(t, filepath.Join(dir, "results"))
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
