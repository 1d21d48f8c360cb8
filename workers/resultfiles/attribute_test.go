package resultfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func header(config string, run int, extra string) string {
	return fmt.Sprintf("version 3\nrun %s-%d-x\nattr configname %s\nattr runnumber %d\n%s\n", config, run, config, run, extra)
}

// TestAttributeByWhatFilesSay: one rule set for both executors. Each kind
// of evidence attributes a file (its header; the output file a header
// names; an event log naming the run's id; a shared name stem), and each
// kind of doubt is reported: files appended to, a file two runs' headers
// name, another config's file, a file nothing names.
func TestAttributeByWhatFilesSay(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"results/Q-#0.sca":    header("Q", 0, "config cmdenv-output-file results/zero.out"),
		"results/zero.out":    "output of run 0\n",
		"results/Q-#0.elog":   "SB v 1537 rid Q-0-x\n",
		"results/Q-#0.txt":    "a stem of run 0's\n",
		"results/Q-#1.vec":    header("Q", 1, "config output-scalar-file results/Same.sca"),
		"results/Same.sca":    header("Q", 2, "config output-scalar-file results/Same.sca"),
		"results/Q-#2.vec":    header("Q", 2, "config output-scalar-file results/Same.sca"),
		"results/all.sca":     header("Q", 3, "config output-scalar-file results/all.sca\nconfig output-scalar-file-append true") + "scalar a b 1\n" + header("Q", 4, ""),
		"results/Q-#9.sca":    header("Q", 9, ""),
		"results/Q-#9.out":    "another batch's\n",
		"results/P-#0.sca":    header("P", 0, ""),
		"results/model.db":    "SQLite format 3\x00",
		"results/partial.vec": "",
	}
	var found []Found
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		found = append(found, Found{Path: p, Name: strings.TrimPrefix(name, "results/")})
	}
	a := Attribute(found, ReadHeader, dir, "Q", []int{0, 1, 2, 3, 4})
	owners := map[string]int{}
	for p, run := range a.Owner {
		owners[strings.TrimPrefix(p, dir+"/")] = run
	}
	want := map[string]int{
		"results/Q-#0.sca": 0, "results/zero.out": 0, "results/Q-#0.elog": 0, "results/Q-#0.txt": 0,
		"results/Q-#1.vec": 1, "results/Same.sca": 2, "results/Q-#2.vec": 2,
	}
	if !reflect.DeepEqual(owners, want) {
		t.Errorf("owners %v, want %v", owners, want)
	}
	if !a.Headed[filepath.Join(dir, "results/Same.sca")] || a.Headed[filepath.Join(dir, "results/zero.out")] {
		t.Errorf("headed %v", a.Headed)
	}
	if runs := a.Shared[filepath.Join(dir, "results/Same.sca")]; !reflect.DeepEqual(runs, []int{1, 2}) || len(a.Shared) != 1 {
		t.Errorf("shared %v, want results/Same.sca named by runs 1 and 2", a.Shared)
	}
	if len(a.Refused[3]) != 1 || len(a.Refused[4]) != 1 || !strings.Contains(a.Refused[3][0], "all.sca is written with output-scalar-file-append") {
		t.Errorf("refused %v, want runs 3 and 4 refused for all.sca", a.Refused)
	}
	var nameless, foreign []string
	for _, f := range a.Nameless {
		nameless = append(nameless, f.Name)
	}
	for _, f := range a.Foreign {
		foreign = append(foreign, f.Name)
	}
	if len(nameless) != 2 || !strings.Contains(strings.Join(nameless, " "), "model.db") || !strings.Contains(strings.Join(nameless, " "), "partial.vec") {
		t.Errorf("nameless %v, want model.db and partial.vec", nameless)
	}
	if !reflect.DeepEqual(foreign, []string{"P-#0.sca"}) {
		t.Errorf("foreign %v", foreign)
	}
}
