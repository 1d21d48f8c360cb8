package oppcli

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
)

func TestParseRunsBothForms(t *testing.T) {
	banner := `OMNeT++ Discrete Event Simulation  (C) 1992-2024 Andras Varga, OpenSim Ltd.
Version: 6.1, build: internal, edition: Academic Public License -- NOT FOR COMMERCIAL USE
See the license for distribution terms and warranty disclaimer

Setting up Cmdenv...

Config: PureAlohaExperiment
Number of runs: 42
Number of runs selected: 2

Run 14: $numHosts=15, $iaMean=1, $repetition=0
Run 15: $numHosts=15, $iaMean=1, $repetition=1

End.
`
	runs, err := ParseRuns(banner)
	if err != nil || len(runs) != 2 || runs[0] != (RunInfo{14, "$numHosts=15, $iaMean=1, $repetition=0"}) || runs[1].Number != 15 {
		t.Fatalf("banner form: %v, %v", runs, err)
	}
	runs, err = ParseRuns("Run 0: $repetition=0\nRun 1: $repetition=1\n")
	if err != nil || len(runs) != 2 || runs[1] != (RunInfo{1, "$repetition=1"}) {
		t.Fatalf("silent form: %v, %v", runs, err)
	}
	if runs, err := ParseRuns("Config: X\nNumber of runs: 3\nNumber of runs selected: 0\n\nEnd.\n"); err != nil || len(runs) != 0 {
		t.Fatalf("no runs selected: %v, %v", runs, err)
	}
	for _, bad := range []string{"", "Setting up Cmdenv...\n", "Number of runs: 3\nRun 0: $x=1\n", "Run 1: a\nRun 0: b\n"} {
		if runs, err := ParseRuns(bad); err == nil {
			t.Errorf("ParseRuns(%q) = %v, want an error", bad, runs)
		}
	}
}

// The real opp_run, with a constraint (3 runs of 9) and an expression
// filter, which only the program can evaluate.
func TestQueryRunsRealOMNeTpp(t *testing.T) {
	omn := omnetpp.Find(t)
	dir := t.TempDir()
	ini := "[General]\n**.a = ${a=1..3}\n**.b = ${b=1..3}\nconstraint = $a < $b\n"
	if err := os.WriteFile(filepath.Join(dir, "c.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	runs, err := QueryRuns(context.Background(), []string{omn.Bin("opp_run")}, dir, "c.ini", "General", "", omn.Env())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Vars)
	}
	if want := "$a=1, $b=2, $repetition=0|$a=1, $b=3, $repetition=0|$a=2, $b=3, $repetition=0"; strings.Join(got, "|") != want {
		t.Fatalf("runs %q", got)
	}
	runs, err = QueryRuns(context.Background(), []string{omn.Bin("opp_run")}, dir, "c.ini", "General", "$b==3", omn.Env())
	if err != nil || len(runs) != 2 || runs[0].Number != 1 || runs[1].Number != 2 {
		t.Fatalf("-r '$b==3': %v, %v", runs, err)
	}
	if _, err := QueryRuns(context.Background(), []string{omn.Bin("opp_run")}, dir, "c.ini", "General", "7", omn.Env()); err == nil ||
		!strings.Contains(err.Error(), "out of range") {
		t.Fatalf("-r 7: %v", err)
	}
}

// A million-run config prints about 40 MB of "Run N: vars" lines; the
// runs are read as the program writes them, not once it has written all
// of it: what is held is the runs, not the output besides (and the parse
// runs alongside the program instead of after it).
func TestQueryRunsReadsTheListAsItIsWritten(t *testing.T) {
	const n = 200_000
	dir := t.TempDir()
	prog := "#!/bin/sh\nexec awk 'BEGIN { for (i = 0; i < " + strconv.Itoa(n) + "; i++) print \"Run \" i \": $x=\" i \", $repetition=0\" }'\n"
	if err := os.WriteFile(filepath.Join(dir, "sim"), []byte(prog), 0o755); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	runs, err := QueryRuns(context.Background(), []string{"./sim"}, dir, "omnetpp.ini", "General", "", nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != n || runs[n-1] != (RunInfo{n - 1, "$x=" + strconv.Itoa(n-1) + ", $repetition=0"}) {
		t.Fatalf("%d runs, the last %+v", len(runs), runs[len(runs)-1])
	}
	// The runs themselves: 24 bytes of RunInfo (twice, for the slice's
	// growth) and the variables' 20 bytes or so; the output is 38 bytes a run.
	if per := float64(after.TotalAlloc-before.TotalAlloc) / n; per > 110 {
		t.Errorf("listing allocated %.0f bytes per run, want at most 110", per)
	}
}
