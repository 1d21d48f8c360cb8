package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
)

// FuzzParse feeds arbitrary ini text to the parser and expands every config
// it accepts: no panic, bounded time, errors carry the file name, and Count
// agrees with Runs, which numbers runs 0..n-1 without exceeding MaxRuns.
// Seeds: the golden testdata/*.ini files.
func FuzzParse(f *testing.F) {
	inis, _ := filepath.Glob("testdata/*.ini")
	for _, p := range inis {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("[General]\n**.a = ${a=1..1000}\n**.b = ${b=1..1000}\nrepeat = 2\n")
	f.Fuzz(func(t *testing.T, text string) {
		start := time.Now()
		ini, err := Parse(strings.NewReader(text), "f.ini")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.ini") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, c := range append(ini.Configs(), General) {
			n, err := ini.Count(c)
			if err != nil {
				continue
			}
			if n < 1 || n > api.MaxRuns {
				t.Fatalf("-c %s: Count = %d", c, n)
			}
			if n > 10000 {
				continue // expanding is linear; keep the fuzzer fast
			}
			runs, err := ini.Runs(c)
			if err != nil || len(runs) != n {
				t.Fatalf("-c %s: Count %d but Runs gave %d, %v", c, n, len(runs), err)
			}
			for i, r := range runs {
				if r.Number != i {
					t.Fatalf("-c %s: run %d numbered %d", c, i, r.Number)
				}
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}
