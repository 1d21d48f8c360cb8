package scafile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: whatever the input, Parse returns a File or a ParseError (a
// line within the input), never panics; a File written back parses to the
// same File. Seeds: real files of the OMNeT++ samples (testdata/*.sca),
// hostile shapes, and testdata/fuzz/FuzzParse.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./workers/scafile
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.sca")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"version 3\nrun r\nattr a \"b\\x41\\\"c\"\nscalar m n nan\nscalar m n2 -inf\n",
		"version 3\nrun r\nstatistic m s\nfield count 1\nbin -inf 0\nbin 0 1\nbin 1 0\n",
		"version 2\nrun r\nparam **.x 1\nvector 1 m v\n1 2 3\n",
		"run \"unterminated\n",
		"\x00\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxLine: 4096, MaxBytes: 1 << 20, MaxItems: 10000}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(bytes.NewReader(data), lim)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is no ParseError", err)
			}
			if lines := bytes.Count(data, []byte("\n")) + 1; pe.Line < 0 || pe.Line > lines {
				t.Fatalf("error names line %d of %d", pe.Line, lines)
			}
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(strings.NewReader(buf.String()), Limits{})
		if err != nil {
			t.Fatalf("what Write wrote does not parse: %v\n%q", err, buf.String())
		}
		if d := diff(file, again); d != "" {
			t.Fatalf("round trip: %s", d)
		}
	})
}
