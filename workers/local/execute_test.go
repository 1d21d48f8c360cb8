package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/simswarm/simswarm/workers/resultfiles"
)

// simScript honours the part of opp_run's contract Execute uses (-c, -r with
// a comma list, --result-dir, -s) and, like Cmdenv -s, announces each run
// ("Cfg run N: ...") and writes <Config>-#<run>.sca and .vec that start with
// the run's header (attr configname, attr runnumber). What a run does
// besides is chosen by the environment: SIM_SLEEP=<run> sleeps,
// SIM_FAIL=<run> exits 1 with a message, SIM_EXTRA names one more file
// (with a header) written for each run.
const simScript = `#!/bin/sh
config=General; runs=""; dir=results
while [ $# -gt 0 ]; do
  case "$1" in
    -c) config=$2; shift ;;
    -r) runs=$2; shift ;;
    --result-dir=*) dir=${1#--result-dir=} ;;
  esac
  shift
done
mkdir -p "$dir"
for r in $(echo "$runs" | tr ',' ' '); do
  echo "$config run $r: \$repetition=$r"
  [ "$r" = "$SIM_FAIL" ] && { echo "<!> Error: run $r diverged" >&2; exit 1; }
  [ "$r" = "$SIM_SLEEP" ] && sleep 60
  head="version 3
run $config-$r-$$
attr configname $config
attr runnumber $r"
  printf '%s\nscalar Net value %s %s\n' "$head" "$r" "$SIM_TAG" > "$dir/$config-#$r.sca"
  printf '%s\nvector 0 Net v %s\n' "$head" "$r" > "$dir/$config-#$r.vec"
  [ -n "$SIM_EXTRA" ] && printf '%s\n' "$head" > "$dir/$SIM_EXTRA"
done
exit 0
`

func testPlan(t *testing.T, runs []int, env ...string) *Plan {
	t.Helper()
	dir := t.TempDir()
	prog := filepath.Join(dir, "sim")
	if err := os.WriteFile(prog, []byte(simScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Plan{
		Name: "test", Args: []string{prog, "-c", "Cfg", "-s"}, Dir: dir, Env: append(os.Environ(), env...),
		Config: "Cfg", Key: "k1", Runs: runs, BatchSize: 1,
		Timeout: 30 * time.Second, Results: []string{"results/*.sca", "results/*.vec"},
	}
}

func execute(t *testing.T, ctx context.Context, p *Plan, opts Options) *Summary {
	t.Helper()
	sum, err := Execute(ctx, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func readRecord(t *testing.T, results, name string, run int) Record {
	t.Helper()
	recs, err := ReadRecords(results, name)
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := recs[run]
	if !ok {
		t.Fatalf("no record of run %d", run)
	}
	return rec
}

func hasRecord(t *testing.T, results string, run int) bool {
	t.Helper()
	recs, err := ReadRecords(results, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, ok := recs[run]
	return ok
}

func listResults(t *testing.T, dir string) []string {
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

func TestExecuteStoresFilesAndRecordsTheirDigests(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2})
	results := filepath.Join(t.TempDir(), "results")
	sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 2})
	if sum.Succeeded != 3 || sum.Failed != 0 || sum.Skipped != 0 {
		t.Fatalf("summary %+v", sum)
	}
	want := []string{"Cfg-#0.sca", "Cfg-#0.vec", "Cfg-#1.sca", "Cfg-#1.vec", "Cfg-#2.sca", "Cfg-#2.vec"}
	if got := listResults(t, results); !slices.Equal(got, want) {
		t.Fatalf("results %q, want %q", got, want)
	}
	rec := readRecord(t, results, "test", 1)
	if rec.Run != 1 || rec.Config != "Cfg" || len(rec.Files) != 2 {
		t.Fatalf("record %+v", rec)
	}
	for _, f := range rec.Files {
		data, err := os.ReadFile(filepath.Join(results, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if f.Digest != fmt.Sprintf("xxh64:%016x", xxhash.Sum64(data)) || f.Size != int64(len(data)) {
			t.Fatalf("record of %s: %+v does not match the file", f.Name, f)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(p.Dir, "results", "*")); len(left) != 0 {
		t.Fatalf("files left in the program's directory: %q", left)
	}
}

func TestResumeComparesDigestsNotExistence(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2, 3}, "SIM_TAG=first")
	results := t.TempDir()
	execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 2})

	// Same size, different content: only a digest notices.
	sca := filepath.Join(results, "Cfg-#1.sca")
	data, _ := os.ReadFile(sca)
	data[0] ^= 0x20
	if err := os.WriteFile(sca, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(results, "Cfg-#3.vec")); err != nil {
		t.Fatal(err)
	}
	// A record that lies about a file is worth nothing either (the last
	// line of an identity wins), and a torn line is ignored.
	j, err := os.OpenFile(journalPath(results, "test"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	j.WriteString(`{"run":2,"identity":"k1#2","files":[{"name":"Cfg-#2.sca","size":1,"digest":"xxh64:00"}]}` + "\n" + `{"run":0,"fil`)
	j.Close()
	p.Env = append(p.Env, "SIM_TAG=second")
	sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 2})
	if sum.Succeeded != 3 || sum.Skipped != 1 {
		t.Fatalf("want runs 1, 2, 3 redone and 0 skipped: %+v", sum)
	}
	for run, tag := range map[string]string{"0": "first", "1": "second", "2": "second", "3": "second"} {
		got, _ := os.ReadFile(filepath.Join(results, "Cfg-#"+run+".sca"))
		if !strings.Contains(string(got), tag) {
			t.Errorf("run %s: %q, want tag %s", run, got, tag)
		}
	}
	sum = execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 2, Force: true})
	if sum.Succeeded != 4 || sum.Skipped != 0 {
		t.Fatalf("Force: %+v", sum)
	}
}

func TestFailedRunIsRetriedAndReported(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2}, "SIM_FAIL=1")
	p.Retries = 2
	results := t.TempDir()
	sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 3})
	if sum.Succeeded != 2 || sum.Failed != 1 || len(sum.Failures) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	f := sum.Failures[0]
	if !slices.Equal(f.Runs, []int{1}) || f.Attempts != 3 || f.Reason != "exit status 1: <!> Error: run 1 diverged" || !strings.Contains(f.StderrTail, "run 1 diverged") {
		t.Fatalf("failure %+v", f)
	}
	if hasRecord(t, results, 1) {
		t.Fatal("a failed run has a completion record")
	}
	var out strings.Builder
	sum.Print(&out, results)
	for _, want := range []string{"run 1 FAILED (3 attempt(s)): exit status 1: <!> Error: run 1 diverged", "3 runs: 2 succeeded, 1 failed, 0 skipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTimeoutFailsOnlyTheHangingRun(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2}, "SIM_SLEEP=2")
	p.Timeout = 2 * time.Second // generous: the other runs must finish within it on a loaded machine
	start := time.Now()
	sum := execute(t, context.Background(), p, Options{ResultsDir: t.TempDir(), Jobs: 3})
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
	if sum.Succeeded != 2 || sum.Failed != 1 || !strings.HasPrefix(sum.Failures[0].Reason, "timed out") {
		t.Fatalf("summary %+v", sum)
	}
}

func TestCancelRecordsNothingUnfinished(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2, 3}, "SIM_SLEEP=3")
	results := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *Summary)
	go func() {
		sum, _ := Execute(ctx, p, Options{ResultsDir: results, Jobs: 1})
		done <- sum
	}()
	// Runs 0..2 finish one by one; cancel while run 3 sleeps.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if hasRecord(t, results, 2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("runs 0..2 never completed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	sum := <-done
	if !sum.Interrupted || sum.Succeeded != 3 || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if hasRecord(t, results, 3) {
		t.Fatal("interrupted run recorded as complete")
	}
	if got := listResults(t, results); len(got) != 6 || slices.Contains(got, "Cfg-#3.sca") {
		t.Fatalf("results %q", got)
	}
}

func TestBatchesAttributeFilesToTheirRuns(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2, 3, 4})
	p.BatchSize = 2
	results := t.TempDir()
	sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 2})
	if sum.Succeeded != 5 {
		t.Fatalf("summary %+v", sum)
	}
	for run := range 5 {
		rec := readRecord(t, results, "test", run)
		if len(rec.Files) != 2 || !strings.Contains(rec.Files[0].Name, "#"+strconv.Itoa(run)+".") {
			t.Fatalf("record of run %d: %+v", run, rec)
		}
	}
}

func TestHostileResultNamesAreRefused(t *testing.T) {
	p := testPlan(t, []int{0}, "SIM_EXTRA=.simswarm-evil")
	p.Results = []string{"results/*.sca", "results/.simswarm*"}
	results := t.TempDir()
	sum := execute(t, context.Background(), p, Options{ResultsDir: results})
	if sum.Failed != 1 || !strings.Contains(sum.Failures[0].Reason, "refusing result file name") {
		t.Fatalf("summary %+v", sum)
	}
	for _, name := range []string{"", ".", "..", "a/b", "../x", "/etc/passwd", `a\b`, "x\x00y", ".simswarm", strings.Repeat("a", 256)} {
		if resultfiles.SafeName(name) {
			t.Errorf("safeName(%q) = true", name)
		}
	}
	for _, name := range []string{"PureAloha-numHosts=10,iaMean=1-#0.sca", "a..b.vec", "run #3.vci"} {
		if !resultfiles.SafeName(name) {
			t.Errorf("safeName(%q) = false", name)
		}
	}
}

func TestSymlinkedResultsAreNotCollected(t *testing.T) {
	p := testPlan(t, []int{0})
	// A "result" that is a symlink to a file outside the run must not be
	// followed: the program wraps the sim and adds the link.
	wrapper := filepath.Join(p.Dir, "wrap")
	script := "#!/bin/sh\n" + p.Args[0] + " \"$@\" || exit 1\nln -s /etc/passwd results/passwd.sca\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p.Args[0] = wrapper
	results := t.TempDir()
	if sum := execute(t, context.Background(), p, Options{ResultsDir: results}); sum.Succeeded != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if got := listResults(t, results); slices.Contains(got, "passwd.sca") {
		t.Fatalf("symlink collected: %q", got)
	}
}

func TestJournalSurvivesATornLineAndCompacts(t *testing.T) {
	results := t.TempDir()
	recs, err := openRecords(results, "j")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		recs.write(Record{Run: i % 3, Identity: "id" + strconv.Itoa(i%3), Attempts: i})
	}
	recs.close()
	// A crash mid-append leaves a torn line; the next append must not be
	// glued to it.
	f, _ := os.OpenFile(journalPath(results, "j"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"run":7,"att`)
	f.Close()
	recs, err = openRecords(results, "j")
	if err != nil {
		t.Fatal(err)
	}
	recs.write(Record{Run: 5, Identity: "id5", Attempts: 1})
	recs.close()
	got, err := ReadRecords(results, "j")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[5].Attempts != 1 || got[0].Attempts != 99 || got[2].Attempts != 98 {
		t.Fatalf("records %+v", got)
	}
	data, _ := os.ReadFile(journalPath(results, "j"))
	if n := strings.Count(string(data), "\n"); n != 4 {
		t.Fatalf("journal has %d lines after compaction, want 4:\n%s", n, data)
	}
}

func TestFailingBatchKeepsItsFinishedRunsAndRunsTheRest(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2, 3, 4}, "SIM_FAIL=2")
	p.BatchSize = 5
	results := t.TempDir()
	sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 1})
	if sum.Succeeded != 4 || sum.Failed != 1 || !slices.Equal(sum.Failures[0].Runs, []int{2}) {
		t.Fatalf("summary %+v", sum)
	}
	for _, run := range []int{0, 1, 3, 4} {
		if rec := readRecord(t, results, "test", run); len(rec.Files) != 2 {
			t.Errorf("run %d: record %+v", run, rec)
		}
	}
	if hasRecord(t, results, 2) {
		t.Fatal("the failed run has a record")
	}
}

func TestAnotherKeyRedoesRecordedRuns(t *testing.T) {
	p := testPlan(t, []int{0, 1})
	results := t.TempDir()
	execute(t, context.Background(), p, Options{ResultsDir: results})
	if sum := execute(t, context.Background(), p, Options{ResultsDir: results}); sum.Skipped != 2 {
		t.Fatalf("same key: %+v", sum)
	}
	p.Key = "k2"
	if sum := execute(t, context.Background(), p, Options{ResultsDir: results}); sum.Succeeded != 2 || sum.Skipped != 0 {
		t.Fatalf("another key: %+v", sum)
	}
	if rec := readRecord(t, results, "test", 1); rec.Key != "k2" {
		t.Fatalf("record %+v", rec)
	}
}

func TestDefaultBatchSizeIsOppRunalls(t *testing.T) {
	for _, c := range []struct{ runs, jobs, want int }{{42, 2, 5}, {6, 2, 3}, {1, 8, 1}, {0, 2, 1}, {7, 0, 5}} {
		if got := DefaultBatchSize(c.runs, c.jobs); got != c.want {
			t.Errorf("DefaultBatchSize(%d, %d) = %d, want %d", c.runs, c.jobs, got, c.want)
		}
	}
}
