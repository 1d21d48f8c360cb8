package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simswarm/simswarm/workers/local"
)

const sixRuns = "[General]\n**.n = ${n=1..3}\nrepeat = 2\n"

func resultFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestRunProducesNamedResultFiles(t *testing.T) {
	dir := fakeCampaign(t, sixRuns, "")
	r := simswarm(t, dir, "run", "-f", "campaign.yaml", "-j", "2")
	if r.code != 0 {
		t.Fatal(r)
	}
	got := resultFiles(t, filepath.Join(dir, "results"))
	var want []string
	for run, n := range []string{"1", "1", "2", "2", "3", "3"} {
		base := "General-n=" + n + "-#" + string(rune('0'+run))
		want = append(want, base+".out", base+".sca", base+".vec")
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("result files\n got %q\nwant %q", got, want)
	}
	if !strings.Contains(r.stdout, "6 runs: 6 succeeded, 0 failed, 0 skipped") {
		t.Fatalf("summary missing:\n%s", r)
	}
}

func TestResumeRedoesExactlyTheDamagedRuns(t *testing.T) {
	dir := fakeCampaign(t, sixRuns, "")
	if r := simswarm(t, dir, "run", "-f", "campaign.yaml"); r.code != 0 {
		t.Fatal(r)
	}
	res := filepath.Join(dir, "results")
	// Run 1 loses a file, run 4 gets a truncated one.
	if err := os.Remove(filepath.Join(res, "General-n=1-#1.vec")); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(res, "General-n=3-#4.sca"), 3); err != nil {
		t.Fatal(err)
	}
	before := modTimes(t, res)
	time.Sleep(20 * time.Millisecond)
	r := simswarm(t, dir, "run", "-f", "campaign.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "6 runs: 2 succeeded, 0 failed, 4 skipped") {
		t.Fatalf("want exactly 2 runs redone:\n%s", r)
	}
	after := modTimes(t, res)
	for name, m := range after {
		redone := strings.Contains(name, "#1.") || strings.Contains(name, "#4.")
		if changed := !m.Equal(before[name]); changed != redone {
			t.Errorf("%s: rewritten=%v, want %v", name, changed, redone)
		}
	}
	if st, _ := os.Stat(filepath.Join(res, "General-n=3-#4.sca")); st == nil || st.Size() <= 3 {
		t.Fatal("truncated file not restored")
	}
	// --force redoes all.
	if r := simswarm(t, dir, "run", "-f", "campaign.yaml", "--force"); !strings.Contains(r.stdout, "6 succeeded, 0 failed, 0 skipped") {
		t.Fatalf("--force:\n%s", r)
	}
}

func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	for _, n := range resultFiles(t, dir) {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		m[n] = st.ModTime()
	}
	return m
}

func TestHangingRunIsKilledAtTimeout(t *testing.T) {
	dir := fakeCampaign(t, "[General]\n**.mode = ${mode=ok,hang,ok}\n", "  timeout: 2s\n  retries: 0\n")
	start := time.Now()
	r := simswarm(t, dir, "run", "-f", "campaign.yaml", "-j", "3")
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %v: the hanging run was not killed", d)
	}
	if r.code != 1 || !strings.Contains(r.stdout, "run 1 FAILED") || !strings.Contains(r.stdout, "timed out after 2s") {
		t.Fatalf("want run 1 reported as timed out:\n%s", r)
	}
	if !strings.Contains(r.stdout, "3 runs: 2 succeeded, 1 failed") {
		t.Fatal(r)
	}
}

func TestCrashingRunIsReportedWithStderrWhileOthersFinish(t *testing.T) {
	dir := fakeCampaign(t, "[General]\n**.mode = ${mode=ok,crash,ok,ok}\n", "  retries: 1\n")
	r := simswarm(t, dir, "run", "-f", "campaign.yaml", "-j", "2")
	if r.code != 1 {
		t.Fatalf("want exit 1:\n%s", r)
	}
	for _, want := range []string{
		"run 1 FAILED (2 attempt(s)): killed by signal: segmentation fault",
		"fakesim: run 1 about to dereference a null pointer",
		"4 runs: 3 succeeded, 1 failed",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r)
		}
	}
	files := resultFiles(t, filepath.Join(dir, "results"))
	if len(files) != 9 || slices.ContainsFunc(files, func(n string) bool { return strings.Contains(n, "#1.") }) {
		t.Fatalf("want the 3 good runs' 9 files only, got %q", files)
	}
}

func TestRetriesRecoverAFlakyRun(t *testing.T) {
	dir := fakeCampaign(t, "[General]\n**.mode = ${mode=flaky,ok}\n", "  retries: 1\n")
	cmd := exec.Command(simswarmBin, "run", "-f", "campaign.yaml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FAKESIM_FLAKY_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2 runs: 2 succeeded") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestInvalidManifestGivesFieldPathAndStatus2(t *testing.T) {
	dir := fakeCampaign(t, sixRuns, "    runs: \"5..2\"\n  retries: -1\n")
	r := simswarm(t, dir, "run", "-f", "campaign.yaml")
	if r.code != 2 {
		t.Fatalf("want exit 2:\n%s", r)
	}
	for _, want := range []string{"spec.simulation.runs", "5..2", "spec.retries"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r)
		}
	}
	writeFile(t, dir, "typo.yaml", "apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: x}\nspec:\n  source: {path: model}\n  simulation: {program: [x], confg: A}\n")
	if r := simswarm(t, dir, "run", "-f", "typo.yaml"); r.code != 2 || !strings.Contains(r.stderr, "spec.simulation.confg") {
		t.Fatalf("unknown field:\n%s", r)
	}
	if r := simswarm(t, dir, "run", "-f", "missing.yaml"); r.code != 2 {
		t.Fatalf("missing file:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "results")); err == nil {
		t.Fatal("an invalid manifest must not start anything")
	}
}

func TestInterruptKeepsNoPartialResults(t *testing.T) {
	dir := fakeCampaign(t, "[General]\n**.mode = ${mode=ok,ok,slow,slow,slow,slow}\n", "")
	cmd := exec.Command(simswarmBin, "run", "-f", "campaign.yaml", "-j", "2")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FAKESIM_SLOW=30s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(dir, "results")
	// Wait until the quick runs are recorded, then interrupt the slow ones.
	deadline := time.Now().Add(20 * time.Second)
	for countRecords(res) < 2 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("quick runs never completed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// ...and until both slots run slow ones (their .out files appear in
	// the work directory): nothing of those may reach the results.
	for {
		outs, _ := filepath.Glob(filepath.Join(dir, ".simswarm", "work", "fake", "src", "results", "*.out"))
		if len(outs) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("slow runs never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130 after SIGINT, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if n := countRecords(res); n != 2 {
		t.Fatalf("%d completion records, want 2 (only finished runs)", n)
	}
	files := resultFiles(t, res)
	if len(files) != 6 {
		t.Fatalf("want only the 2 finished runs' files, got %q", files)
	}
	// Resuming runs only the four that were interrupted.
	cmd2 := exec.Command(simswarmBin, "run", "-f", "campaign.yaml", "-j", "4")
	cmd2.Dir = dir
	cmd2.Env = append(os.Environ(), "FAKESIM_SLOW=10ms")
	out, err := cmd2.Output()
	if err != nil || !strings.Contains(string(out), "6 runs: 4 succeeded, 0 failed, 2 skipped") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
}

func countEntries(dir string) int {
	entries, _ := os.ReadDir(dir)
	return len(entries)
}

func countRecords(resultsDir string) int {
	recs, _ := local.ReadRecords(resultsDir, "fake")
	return len(recs)
}

func TestRunallBatchesAndResumes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "omnetpp.ini", "[General]\n[Config Sweep]\n**.n = ${n=1..7}\n")
	r := simswarm(t, dir, "runall", "-j", "2", "-b", "3", "--", fakesimBin, "-c", "Sweep", "-r", "0..5")
	if r.code != 0 || !strings.Contains(r.stdout, "6 runs: 6 succeeded") {
		t.Fatal(r)
	}
	if files := resultFiles(t, filepath.Join(dir, "results")); len(files) != 18 {
		t.Fatalf("want 18 files for runs 0..5, got %q", files)
	}
	// Each run has its own record listing exactly its own files.
	recs, err := local.ReadRecords(filepath.Join(dir, "results"), "runall-Sweep")
	if err != nil {
		t.Fatal(err)
	}
	if rec := recs[4]; len(rec.Files) != 3 || !strings.Contains(rec.Files[0].Name, "#4.") {
		t.Fatalf("record of run 4: %+v", rec)
	}
	r = simswarm(t, dir, "runall", "-j", "2", "--", fakesimBin, "-c", "Sweep")
	if r.code != 0 || !strings.Contains(r.stdout, "7 runs: 1 succeeded, 0 failed, 6 skipped") {
		t.Fatal(r)
	}
	if r := simswarm(t, dir, "runall", "--", fakesimBin, "-c", "Nope"); r.code == 0 || !strings.Contains(r.stderr, "Nope") {
		t.Fatalf("unknown config:\n%s", r)
	}
	// An opp_runall command line's --result-dir says where results go.
	if r := simswarm(t, dir, "runall", "--", fakesimBin, "-c", "Sweep", "-r", "6", "--result-dir=alt"); r.code != 0 {
		t.Fatal(r)
	}
	if files := resultFiles(t, filepath.Join(dir, "alt")); !slices.Equal(files, []string{"Sweep-n=7-#6.out", "Sweep-n=7-#6.sca", "Sweep-n=7-#6.vec"}) {
		t.Fatalf("--result-dir=alt holds %q", files)
	}
}

func TestSeveralCampaignsStopAtAFailureUnlessKeepGoing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad/omnetpp.ini", "[General]\n**.mode = ${mode=ok,fail}\n")
	writeFile(t, dir, "good/omnetpp.ini", "[General]\n**.n = ${n=1,2}\n")
	doc := func(name string) string {
		return fmt.Sprintf("apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: %s}\nspec:\n  source: {path: %s}\n  build: {command: [\"true\"]}\n  simulation: {program: [%q]}\n  retries: 0\n", name, name, fakesimBin)
	}
	writeFile(t, dir, "campaigns.yaml", doc("bad")+"---\n"+doc("good"))

	r := simswarm(t, dir, "run", "-f", "campaigns.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "campaigns not started after a failure (use --keep-going): good") {
		t.Fatalf("want the second campaign not started:\n%s", r)
	}
	if recs, _ := local.ReadRecords(filepath.Join(dir, "results"), "good"); len(recs) != 0 {
		t.Fatal("campaign good ran")
	}

	// --keep-going runs the second one; the logs come as JSON on stderr.
	r = simswarm(t, dir, "--log-format", "json", "-v", "run", "-f", "campaigns.yaml", "--keep-going")
	if r.code != 1 || !strings.Contains(r.stdout, "2 runs: 2 succeeded, 0 failed, 0 skipped") {
		t.Fatalf("want campaign good run with --keep-going:\n%s", r)
	}
	if got := resultFiles(t, filepath.Join(dir, "results")); len(got) != 9 {
		t.Fatalf("want 3 files of bad's run 0 and 6 of good's runs, got %q", got)
	}
	var logged map[string]any
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &logged); err != nil {
				t.Fatalf("log line %q is not JSON: %v", line, err)
			}
		}
	}
	if logged == nil || logged["msg"] == nil {
		t.Fatalf("no JSON log lines with -v --log-format json:\n%s", r)
	}
}

// TestRunallTakesTheLogFlags: simswarm's -v (log detail, as for every
// command) works with runall, beside runall's own -V (opp_runall's: print
// what it does). runall's -V once took the name --verbose from -v, so
// "simswarm -vv runall" was "unknown shorthand flag".
func TestRunallTakesTheLogFlags(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "omnetpp.ini", "[General]\n[Config Sweep]\n**.n = ${n=1..2}\n")
	r := simswarm(t, dir, "-vv", "runall", "-V", "--", fakesimBin, "-c", "Sweep")
	if r.code != 0 || !strings.Contains(r.stderr, "batch size: 1") || !strings.Contains(r.stderr, "batch started") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
