// Package aloha_test checks the example model examples/aloha: its
// command-line contract, its agreement with api/sweep, and its physics.
package aloha_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api/sweep"
	"github.com/simswarm/simswarm/test/testproc"
)

// alohaBin is the model, built once from a copy of this directory.
var alohaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aloha-build-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		srcs, _ := filepath.Glob(filepath.Join(exampleRoot, "*.[ch]"))
		for _, src := range append(srcs, filepath.Join(exampleRoot, "Makefile")) {
			f := filepath.Base(src)
			data, err := os.ReadFile(src)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		// -Werror: the model must build without warnings.
		cmd := exec.Command("make", "-j2", "CFLAGS=-O2 -Werror")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "make: %v\n%s", err, out)
			return 1
		}
		alohaBin = filepath.Join(dir, "aloha")
		return testproc.Main(m)
	}()
	os.Exit(code)
}

func aloha(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(alohaBin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func mustAloha(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, stderr, err := aloha(t, dir, args...)
	if err != nil {
		t.Fatalf("aloha %v: %v\n%s", args, err, stderr)
	}
	return out
}

// exampleRoot is examples/aloha, relative to this test's directory.
const exampleRoot = "../../examples/aloha"

func exampleDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(exampleRoot)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRunNumbersBannerAndSilentForms(t *testing.T) {
	dir := exampleDir(t)
	banner := mustAloha(t, dir, "-u", "Cmdenv", "-c", "PureAloha", "-q", "runnumbers")
	for _, want := range []string{"Setting up Cmdenv...", "Config: PureAloha", "Number of runs: 30", "Run numbers: 0 1 2 "} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner output lacks %q:\n%s", want, banner)
		}
	}
	silent := mustAloha(t, dir, "-c", "PureAloha", "-q", "runnumbers", "-s", "-r", "0..3,20,2")
	if silent != "0 1 2 3 20\n" {
		t.Fatalf("silent form with filter = %q", silent)
	}
	// numHosts (3 values) x iaMean (1..9 step 2: 5 values) x repeat 2.
	runs := strings.Split(strings.TrimSpace(mustAloha(t, dir, "-c", "SlottedAloha", "-q", "runs")), "\n")
	if len(runs) != 3*5*2 {
		t.Fatalf("%d runs, want 30", len(runs))
	}
	if runs[29] != "Run 29: $numHosts=20, $iaMean=9, $repetition=1" {
		t.Fatalf("last run %q", runs[29])
	}
}

// fixtureDialect are the api/sweep goldens written in the dialect the C
// model reads (one parent per config, named variables, plain lists and
// ranges); the others use OMNeT++ features only api/sweep and the real
// OMNeT++ read, and api/sweep's own cross-check compares those.
var fixtureDialect = []string{"config_errors", "extends", "lists", "ranges", "refs"}

// TestQueriesMatchGoSweep checks the C model and package api/sweep read the
// same ini dialect the same way: run lists, variables and result names.
func TestQueriesMatchGoSweep(t *testing.T) {
	inis := map[string][]string{filepath.Join(exampleDir(t), "omnetpp.ini"): nil}
	for _, g := range fixtureDialect {
		inis["../../api/sweep/testdata/"+g+".ini"] = nil
	}
	checked := 0
	for path := range inis {
		ini, err := sweep.ParseFile(path)
		if err != nil {
			// The C model must refuse what the Go parser refuses.
			if _, _, cerr := aloha(t, ".", "-f", path, "-q", "runnumbers"); cerr == nil {
				t.Errorf("%s: Go rejects (%v) but the model accepts", path, err)
			}
			continue
		}
		for _, cfg := range ini.Configs() {
			runs, goErr := ini.Runs(cfg)
			out, stderr, cErr := aloha(t, ".", "-f", path, "-c", cfg, "-q", "runs")
			if (goErr != nil) != (cErr != nil) {
				t.Errorf("%s [%s]: Go error %v, model error %v %s", path, cfg, goErr, cErr, stderr)
				continue
			}
			if goErr != nil {
				continue
			}
			var want strings.Builder
			for _, r := range runs {
				want.WriteString(r.String() + "\n")
			}
			if out != want.String() {
				t.Errorf("%s [%s]: -q runs differs\n model:\n%s\n   Go:\n%s", path, cfg, out, want.String())
			}
			checked++
		}
	}
	if checked < 5 {
		t.Fatalf("only %d configs compared", checked)
	}
}

func TestResultFilesAreNamedAndDeterministic(t *testing.T) {
	dir := exampleDir(t)
	ini, err := sweep.ParseFile(filepath.Join(dir, "omnetpp.ini"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ini.Runs("Quick")
	if err != nil {
		t.Fatal(err)
	}
	a, b := t.TempDir(), t.TempDir()
	mustAloha(t, dir, "-c", "Quick", "--result-dir="+a)
	mustAloha(t, dir, "-c", "Quick", "-r", "0..3", "--result-dir", b)
	var want []string
	for _, r := range runs {
		want = append(want, r.ResultBase()+".sca", r.ResultBase()+".vec")
	}
	sort.Strings(want)
	got := listDir(t, a)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("files\n got %q\nwant %q", got, want)
	}
	for _, name := range got {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s differs between two executions of the same run", name)
		}
	}
	sca, _ := os.ReadFile(filepath.Join(a, runs[2].ResultBase()+".sca"))
	for _, want := range []string{"version 3\n", "\nattr configname Quick\n", "\nattr runnumber 2\n", "\nattr repetition 0\n", "\nitervar iaMean 4\n", "\nscalar Aloha.channel throughput "} {
		if !bytes.Contains(sca, []byte(want)) {
			t.Errorf(".sca lacks %q", want)
		}
	}
	// Different repetitions use different seeds.
	s0, _ := os.ReadFile(filepath.Join(a, runs[0].ResultBase()+".sca"))
	s1, _ := os.ReadFile(filepath.Join(a, runs[1].ResultBase()+".sca"))
	if scalar(t, s0, "throughput") == scalar(t, s1, "throughput") {
		t.Error("repetitions 0 and 1 gave identical throughput: the seed is not used")
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func scalar(t *testing.T, sca []byte, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(sca))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "scalar" && f[2] == name {
			v, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no scalar %s", name)
	return 0
}

const physicsIni = `[General]
**.txDuration = 0.1s
**.numHosts = 10
sim-time-limit = 20000s
repeat = 8
[Config Pure]
**.slotted = false
**.iaMean = ${iaMean=4,2,1,0.666667}s
[Config Slotted]
**.slotted = true
**.iaMean = ${iaMean=4,2,1,0.666667}s
`

// TestThroughputFollowsTheory checks the measured throughput against
// S = G e^-2G (pure) and S = G e^-G (slotted), within four standard errors
// of the mean over the repetitions (plus a small allowance for edge effects
// at the end of the simulated time).
func TestThroughputFollowsTheory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "omnetpp.ini"), []byte(physicsIni), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []string{"Pure", "Slotted"} {
		res := filepath.Join(dir, "results-"+cfg)
		mustAloha(t, dir, "-c", cfg, "--result-dir="+res)
		type acc struct{ s, g []float64 }
		points := map[float64]*acc{}
		for _, name := range listDir(t, res) {
			if !strings.HasSuffix(name, ".sca") {
				continue
			}
			sca, err := os.ReadFile(filepath.Join(res, name))
			if err != nil {
				t.Fatal(err)
			}
			// G as configured: numHosts * txDuration / iaMean.
			G := math.Round(10*0.1/parseItervar(t, sca, "iaMean")*100) / 100
			if points[G] == nil {
				points[G] = &acc{}
			}
			points[G].s = append(points[G].s, scalar(t, sca, "throughput"))
			points[G].g = append(points[G].g, scalar(t, sca, "offeredLoad"))
			// Every frame sent is either received or lost in a collision.
			if sent, recv, coll := scalar(t, sca, "framesSent"), scalar(t, sca, "framesReceived"), scalar(t, sca, "collisions"); sent != recv+coll || recv == 0 || coll == 0 {
				t.Errorf("%s: framesSent %v != framesReceived %v + collisions %v", name, sent, recv, coll)
			}
		}
		if len(points) != 4 {
			t.Fatalf("%s: %d load points, want 4", cfg, len(points))
		}
		for G, a := range points {
			mean, se := meanSE(a.s)
			theory := G * math.Exp(-2*G)
			if cfg == "Slotted" {
				theory = G * math.Exp(-G)
			}
			t.Logf("%s G=%.2f: S=%.4f ± %.4f (theory %.4f, n=%d)", cfg, G, mean, se, theory, len(a.s))
			if d := math.Abs(mean - theory); d > 4*se+0.001 {
				t.Errorf("%s G=%.2f: S=%.4f is %.4f from theory %.4f (SE %.4f)", cfg, G, mean, d, theory, se)
			}
			// The observed offered load is the configured one: every
			// generated frame is sent (no queueing).
			if gm, gse := meanSE(a.g); math.Abs(gm-G) > 4*gse+0.002 {
				t.Errorf("%s G=%.2f: observed offered load %.4f ± %.4f", cfg, G, gm, gse)
			}
		}
	}
}

func parseItervar(t *testing.T, sca []byte, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(string(sca), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "itervar" && f[1] == name {
			v, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no itervar %s", name)
	return 0
}

func meanSE(xs []float64) (float64, float64) {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(len(xs)-1))
	return mean, sd / math.Sqrt(float64(len(xs)))
}

func TestErrorsSayWhatIsWrong(t *testing.T) {
	dir := exampleDir(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-c", "NoSuchConfig", "-q", "runnumbers"}, `no config "NoSuchConfig"`},
		{[]string{"-c", "Quick", "-r", "5..2"}, "invalid run filter"},
		{[]string{"-c", "Quick", "-r", "7"}, "out of range"},
		{[]string{"-f", "missing.ini"}, "cannot open ini file"},
		{[]string{"--frobnicate"}, "unknown option"},
		{[]string{"-u", "Qtenv"}, "only Cmdenv"},
	} {
		_, stderr, err := aloha(t, dir, tc.args...)
		if err == nil || !strings.HasPrefix(stderr, "<!> Error: ") || !strings.Contains(stderr, tc.want) {
			t.Errorf("aloha %v: err=%v stderr=%q, want <!> Error: ...%s", tc.args, err, stderr, tc.want)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.ini")
	os.WriteFile(bad, []byte("[General]\n**.x = ${1,2}\n"), 0o644)
	if _, stderr, err := aloha(t, dir, "-f", bad, "-q", "runs"); err == nil || !strings.Contains(stderr, "bad.ini:2:") {
		t.Errorf("unnamed variable: err=%v stderr=%q", err, stderr)
	}
}
