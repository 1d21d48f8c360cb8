package sweep

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFormatGMatchesC checks range values against the real thing: C's
// printf("%g"), as the example model (and OMNeT++) print them. Values are
// passed to C as hex float literals, so both sides format the same double.
func TestFormatGMatchesC(t *testing.T) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc is needed (make deps installs it): %v", err)
	}
	var values []float64
	for _, def := range []string{
		"0..1 step 0.1", "0..3 step 0.3", "-2..2 step 0.25", "1..9 step 2",
		"0.0001..0.001 step 0.00007", "1e-07..1e-06 step 1.3e-07", "0..3e+06 step 123457",
		"999990..1000010 step 0.5", "0..100 step 0.7", "123456.4..123456.6 step 0.05",
	} {
		it, _, unsupported, err := parseItem(def)
		if err != nil || unsupported != "" {
			t.Fatalf("%s: %v %s", def, err, unsupported)
		}
		vals, err := rangeNumbers(it, nil)
		if err != nil {
			t.Fatalf("%s: %v", def, err)
		}
		values = append(values, vals...)
	}
	values = append(values, 0, -0.0, 1e100, 1e-100, 5e-324, 1.7976931348623157e308, 0.5, 2.5, 1234565, 12345650, 0.000123456789)

	var src strings.Builder
	src.WriteString("#include <stdio.h>\nint main(void) {\n")
	for _, v := range values {
		src.WriteString("\tprintf(\"%g\\n\", " + strconv.FormatFloat(v, 'x', -1, 64) + ");\n")
	}
	src.WriteString("\treturn 0;\n}\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "g.c"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "g")
	if out, err := exec.Command(cc, "-std=c99", "-o", bin, filepath.Join(dir, "g.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(values) {
		t.Fatalf("C printed %d lines for %d values", len(want), len(values))
	}
	for i, v := range values {
		if got := formatG(v); got != want[i] {
			t.Errorf("formatG(%v) = %q, C printf %%g gives %q", v, got, want[i])
		}
	}
}
