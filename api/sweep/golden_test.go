package sweep

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files from the current output")

// expandAll renders what opp_run -q runs would print for every config of
// an ini file, or the error of each config.
func expandAll(t *testing.T, path string) string {
	t.Helper()
	ini, err := ParseFile(path)
	if err != nil {
		return "parse error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, c := range ini.Configs() {
		b.WriteString("[-c " + c + "]\n")
		runs, err := ini.Runs(c)
		if err != nil {
			b.WriteString("error: " + err.Error() + "\n\n")
			continue
		}
		n, err := ini.Count(c)
		if err != nil || n != len(runs) {
			t.Errorf("%s -c %s: Count = %d, %v; Runs gave %d", path, c, n, err, len(runs))
		}
		for i, r := range runs {
			if r.Number != i || r.Config != c {
				t.Errorf("%s -c %s: run %d is %+v", path, c, i, r)
			}
			b.WriteString(r.String() + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestGolden expands every testdata/*.ini and compares with its .golden
// file (the -q runs output of each config). go test -run TestGolden -update
// rewrites them; review the diff.
func TestGolden(t *testing.T) {
	inis, err := filepath.Glob("testdata/*.ini")
	if err != nil || len(inis) == 0 {
		t.Fatalf("no testdata/*.ini: %v", err)
	}
	for _, ini := range inis {
		t.Run(filepath.Base(ini), func(t *testing.T) {
			got := expandAll(t, ini)
			golden := strings.TrimSuffix(ini, ".ini") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n%s", ini, golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + wl + "\n  got: " + gl
		}
	}
	return "(no line differs)"
}
