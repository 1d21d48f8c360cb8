package oppcli

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestOutputFilesAndAppends(t *testing.T) {
	h, _ := ReadHeader(strings.NewReader("version 3\nrun Q-0-x\nattr configname Q\nattr runnumber 0\n" +
		"config output-vector-file results/vec/Q-0.vec\nconfig eventlog-file results/elog/run0.elog\n" +
		"config output-scalar-file results/all.sca\nconfig output-scalar-file-append true\nconfig snapshot-file ${resultdir}/x.sna\n"))
	got := h.OutputFiles()
	want := []string{"results/all.sca", "results/vec/Q-0.vec", "results/vec/Q-0.vci", "results/elog/run0.elog"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("OutputFiles %q, want %q", got, want)
	}
	for file, appends := range map[string]bool{
		"results/all.sca": true, "/w/results/all.sca": true, "results/Q-0.sca": false, "results/vec/Q-0.vec": false,
	} {
		if opt, ok := h.Appends(file, "/w"); ok != appends || (ok && opt != "output-scalar-file-append") {
			t.Errorf("Appends(%s) = %q, %v", file, opt, ok)
		}
	}
	// Without a configured name the extension says which kind.
	h, _ = ReadHeader(strings.NewReader("version 3\nrun R\nattr configname Q\nattr runnumber 0\nconfig output-vector-file-append true\n"))
	for file, appends := range map[string]bool{"results/Q-#0.vec": true, "results/Q-#0.vci": true, "results/Q-#0.sca": false} {
		if _, ok := h.Appends(file, "/w"); ok != appends {
			t.Errorf("Appends(%s) = %v", file, ok)
		}
	}
}

func TestReadRunsListsEveryBlock(t *testing.T) {
	sca := "version 3\nrun A-0-x\nattr configname A\nattr runnumber 0\nconfig x 1\n\npar Aloha x 1\nscalar Aloha y 2\n" +
		"version 3\nrun A-1-x\nattr configname A\nattr runnumber 1\nitervar n 3\nscalar Aloha y 2\n" +
		"run A-0-y\nattr configname A\nattr runnumber 0\nscalar Aloha y 3\n"
	got := ReadRuns(strings.NewReader(sca))
	if want := []RunRef{{"A", 0}, {"A", 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadRuns %v, want %v", got, want)
	}
}

func TestEventlogRunID(t *testing.T) {
	if id, ok := EventlogRunID(strings.NewReader("SB ov 1537 ev 2 rid Q-0-20261206-18:25:40-12918\n\nE # 0 t 0\n")); !ok || id != "Q-0-20261206-18:25:40-12918" {
		t.Fatalf("%q %v", id, ok)
	}
	for _, other := range []string{"", "version 3\nrun x\n", "SB ov 1537\n", "\x00\x01"} {
		if id, ok := EventlogRunID(strings.NewReader(other)); ok {
			t.Errorf("EventlogRunID(%q) = %q", other, id)
		}
	}
}

// TestResultRootCoversEveryRunsDirectory: a result-dir that varies per run
// gives the directory all runs' directories share, without asking the
// program about each run.
func TestResultRootCoversEveryRunsDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("omnetpp.ini", "[General]\nx = 1\n")
	write("v.ini", "include omnetpp.ini\n[Config V]\nresult-dir = \"results/${configname}/${runnumber}\" # per run\n")
	write("w.ini", "[Config W]\nresult-dir=out${runnumber}\n")
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"./p", "-f", "v.ini", "-c", "V"}, "results"},
		{[]string{"./p", "-f", "w.ini", "-c", "W"}, "."},
		{[]string{"./p", "-c", "General"}, "results"},
		{[]string{"./p", "--result-dir=r/${runnumber}/x"}, "r"},
		{[]string{"./p", "--result-dir=fixed"}, "fixed"},
	} {
		inv, err := ParseInvocation(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		// The program is asked only when an ini sets result-dir: answer
		// as it would for run 0.
		got, err := resultRoot(ctx, inv, dir, func() (string, error) {
			switch inv.Config {
			case "V":
				return "results/V/0", nil
			case "W":
				return "out0", nil
			}
			return "results", nil
		})
		if err != nil || got != tc.want {
			t.Errorf("%q: ResultRoot %q (%v), want %q", tc.args, got, err, tc.want)
		}
	}
	if got := commonDir("/a/b/c", "/a/d"); got != "/a" {
		t.Errorf("commonDir %q", got)
	}
	if got := commonDir("results/x", "results"); got != "results" {
		t.Errorf("commonDir %q", got)
	}
	if got := commonDir("resultsx", "results"); got != "." {
		t.Errorf("commonDir %q", got)
	}
}

// TestReadHeaderUnquotesAsOMNeTppWrites: OMNeT++ quotes a value with
// spaces or special characters and escapes inside it (\t, \", \\, \xHH,
// ...), and separates tokens by any run of spaces or tabs; the header
// reader takes each token as scafile's tokenizer (OMNeT++'s LineTokenizer)
// does, the run id included.
func TestReadHeaderUnquotesAsOMNeTppWrites(t *testing.T) {
	h, ok := ReadHeader(strings.NewReader("version 3\n" +
		"run \"Q-0-20260101 12:00:00-\\x31\"\n" +
		"attr configname Q\n" +
		"attr  runnumber\t0\n" +
		"attr description \"say \\\"hi\\\"\\r\"\n" +
		"config cmdenv-output-file \"results/out dir/\\x51-0.out\"\n" +
		"config output-scalar-file \"results/a\\\\b.sca\"\n"))
	if !ok {
		t.Fatal("no header")
	}
	if h.RunID != "Q-0-20260101 12:00:00-1" {
		t.Errorf("RunID %q", h.RunID)
	}
	if config, run, ok := h.Run(); !ok || config != "Q" || run != 0 {
		t.Errorf("Run() = %q, %d, %v", config, run, ok)
	}
	if got := h.Attrs["description"]; got != "say \"hi\"\r" {
		t.Errorf("description %q", got)
	}
	if out, ok := h.OutFile(); !ok || out != "results/out dir/Q-0.out" {
		t.Errorf("OutFile %q, %v", out, ok)
	}
	if got := h.Config["output-scalar-file"]; got != `results/a\b.sca` {
		t.Errorf("output-scalar-file %q", got)
	}
	runs := ReadRuns(strings.NewReader("version 3\nrun \"A 0\"\nattr configname \"My\\x20Config\"\nattr\trunnumber  3\nscalar Net x 1\n"))
	if want := []RunRef{{"My Config", 3}}; !reflect.DeepEqual(runs, want) {
		t.Errorf("ReadRuns %v, want %v", runs, want)
	}
}

// A runner reads the header of every result file a batch wrote; a small
// file must not cost a 16 KiB buffer each time (it was a quarter of the
// runner's allocations in test/bench/throughput.sh, and their GC).
func TestReadHeaderOfSmallFilesAllocatesLittle(t *testing.T) {
	p := filepath.Join(t.TempDir(), "General-#3.sca")
	text := "version 3\nrun General-3-20261207\nattr configname General\nattr runnumber 3\nscalar Net x 3\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func() {
		h, ok := ReadFileHeader(p)
		if c, n, okr := h.Run(); !ok || !okr || c != "General" || n != 3 {
			t.Fatalf("header of %s: %+v, %v", p, h, ok)
		}
	}
	read()
	const n = 200
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		read()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 4<<10 {
		t.Fatalf("reading a %d-byte header allocates %d bytes, want at most 4 KiB", len(text), per)
	}
}
