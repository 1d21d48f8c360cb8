package scafile

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// diff describes how the runs of a and b differ ("" if they do not),
// taking NaN as equal to NaN.
func diff(a, b *File) string {
	na, nb := fmt.Sprintf("%#v", norm(a)), fmt.Sprintf("%#v", norm(b))
	if na != nb {
		return fmt.Sprintf("\n%s\n!=\n%s", na, nb)
	}
	return ""
}

// norm is a's runs with every NaN made the same (fmt prints them alike
// anyway) and nil slices made empty.
func norm(f *File) []Run {
	var out []Run
	for _, r := range f.Runs {
		c := *r
		fix := func(kv []KV) []KV {
			if kv == nil {
				return []KV{}
			}
			return kv
		}
		c.Attrs, c.Itervars, c.Config = fix(c.Attrs), fix(c.Itervars), fix(c.Config)
		out = append(out, c)
	}
	return out
}

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(text), Limits{})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return f
}

func TestParseRecords(t *testing.T) {
	f := mustParse(t, `version 3
run "Cfg-0-2026 x"
attr configname Cfg
attr iterationvars "$a=1, $b=\"q\""
itervar a 1
itervar b "\"q\""
config **.x "uniform(0m, 1000m)"

par Net.m typename "\"M\""
par Net.m x 5m
attr unit m
scalar Net.m "a name\twith\\escapes" -1.5e-3
attr unit s
scalar Net.m overflow 1e999
scalar Net.m big inf
scalar Net.m small -inf
scalar Net.m what nan
scalar Net.m what2 -nan
scalar Net.m msvc 1.#INF
# a comment
statistic Net.m delay:histogram
field count 3
field mean 2
field min 1
attr title "the delay"
bin	-inf	0
bin	0	1
bin	0	1
bin	5	2
statistic Net.m empty:stats
field count 0
`)
	if f.Version != 3 || len(f.Runs) != 1 || f.SkippedCount != 0 {
		t.Fatalf("version %d, %d runs, %d skipped", f.Version, len(f.Runs), f.SkippedCount)
	}
	r := f.Runs[0]
	if r.ID != "Cfg-0-2026 x" {
		t.Errorf("run id %q", r.ID)
	}
	if v, _ := Attr(r.Attrs, "iterationvars"); v != `$a=1, $b="q"` {
		t.Errorf("iterationvars %q", v)
	}
	if !reflect.DeepEqual(r.Itervars, []KV{{"a", "1"}, {"b", `"q"`}}) {
		t.Errorf("itervars %v", r.Itervars)
	}
	if !reflect.DeepEqual(r.Config, []KV{{"**.x", "uniform(0m, 1000m)"}}) {
		t.Errorf("config %v", r.Config)
	}
	if len(r.Params) != 2 || r.Params[0].Value != `"M"` || !reflect.DeepEqual(r.Params[1].Attrs, []KV{{"unit", "m"}}) {
		t.Errorf("params %+v", r.Params)
	}
	s := r.Scalars
	if len(s) != 7 || s[0].Name != "a name\twith\\escapes" || s[0].Value != -1.5e-3 || !reflect.DeepEqual(s[0].Attrs, []KV{{"unit", "s"}}) {
		t.Fatalf("scalars %+v", s)
	}
	if !math.IsInf(s[1].Value, 1) || !math.IsInf(s[2].Value, 1) || !math.IsInf(s[3].Value, -1) ||
		!math.IsNaN(s[4].Value) || !math.IsNaN(s[5].Value) || !math.IsInf(s[6].Value, 1) {
		t.Errorf("inf/nan scalars %+v", s[1:])
	}
	st := r.Statistics
	if len(st) != 2 || st[0].Name != "delay:histogram" || len(st[0].Fields) != 3 || len(st[0].Bins) != 4 ||
		!reflect.DeepEqual(st[0].Attrs, []KV{{"title", "the delay"}}) {
		t.Fatalf("statistics %+v", st)
	}
	if c, ok := st[0].Field("count"); !ok || c != 3 {
		t.Errorf("count %v %v", c, ok)
	}
	if !math.IsInf(st[0].Bins[0].Lower, -1) || st[0].Bins[3] != (Bin{5, 2}) {
		t.Errorf("bins %v", st[0].Bins)
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`a\nb`: "a\nb", `\x41\x4a`: "AJ", `\x4`: "\x04", `\xZ`: "\x00Z", `\q`: "q", `\\`: `\`, `\"`: `"`, `\b\f\r\t`: "\b\f\r\t",
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHostile: malformed and hostile content is an error naming the line,
// or a reported skip, never a panic.
func TestHostile(t *testing.T) {
	head := "version 3\nrun r\n"
	for _, c := range []struct {
		name, text string
		line       int  // the error's line; 0: no error
		limit      bool // an ErrLimit
		skipped    int
	}{
		{"unknown record", head + "vector 1 m v ETV\n1\t2\t3\t4\nfrobnicate x\n", 0, false, 3},
		{"binary junk", head + "scalar m n 1\n\x00\x01\x02\xff\xfe", 4, false, 0},
		{"invalid utf8", head + "attr a \xc3\x28\n", 3, false, 0},
		{"escape makes invalid utf8", head + `attr a "\xff"` + "\n", 3, false, 0},
		{"huge line", head + "attr a " + strings.Repeat("x", 2<<20) + "\n", 3, true, 0},
		{"huge final line", head + strings.Repeat("y", 3<<20), 3, true, 0},
		{"many tokens", head + strings.Repeat("a ", 100000) + "\n", 3, false, 0},
		{"unmatched quote", head + `attr a "b` + "\n", 3, false, 0},
		{"bad number", head + "scalar m n 1.5x\n", 3, false, 0},
		{"empty number", head + `scalar m n ""` + "\n", 3, false, 0},
		{"bad version", "version 7\n", 1, false, 0},
		{"scalar before run", "version 3\nscalar m n 1\n", 2, false, 0},
		{"field outside statistic", head + "scalar m n 1\nfield count 1\n", 4, false, 0},
		{"bin edges decrease", head + "statistic m s\nbin 1 0\nbin 0 0\n", 5, false, 0},
		{"nan bin edge", head + "statistic m s\nbin nan 0\n", 4, false, 0},
		{"itervar after result", head + "scalar m n 1\nitervar a 1\n", 4, false, 0},
		{"too few fields", head + "scalar m n\n", 3, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(c.text), Limits{})
			if c.line == 0 {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				if f.SkippedCount != c.skipped || len(f.Skipped) != c.skipped {
					t.Errorf("skipped %d %v, want %d", f.SkippedCount, f.Skipped, c.skipped)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a ParseError", err)
			}
			if pe.Line != c.line {
				t.Errorf("error %q names line %d, want %d", err, pe.Line, c.line)
			}
			if errors.Is(err, ErrLimit) != c.limit {
				t.Errorf("error %q: is ErrLimit %v, want %v", err, errors.Is(err, ErrLimit), c.limit)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

func TestLimits(t *testing.T) {
	body := "version 3\nrun r\n" + strings.Repeat("scalar m n 1\n", 1000)
	if _, err := Parse(strings.NewReader(body), Limits{MaxItems: 500}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxItems: %v, want ErrLimit", err)
	}
	if _, err := Parse(strings.NewReader(body), Limits{MaxBytes: 1000}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxBytes: %v, want ErrLimit", err)
	}
	f, err := Parse(strings.NewReader(body), Limits{MaxItems: 1002, MaxBytes: int64(len(body))})
	if err != nil || len(f.Runs[0].Scalars) != 1000 {
		t.Errorf("at the limits: %v", err)
	}
	many := "version 3\n" + strings.Repeat("mystery\n", 1000)
	f, err = Parse(strings.NewReader(many), Limits{})
	if err != nil || f.SkippedCount != 1000 || len(f.Skipped) != MaxSkipped || f.Skipped[0].Line != 2 {
		t.Errorf("skips: %v %d %d", err, f.SkippedCount, len(f.Skipped))
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a b", "tab\there", `q"uote`, `back\slash`, "ctl\x01\x7f", "#0", "ünïcode", "\r\n"} {
		f := &File{Version: 3, Runs: []*Run{{ID: s, Attrs: []KV{{s, s}}, Scalars: []Scalar{{Module: s, Name: s, Value: 1}}}}}
		var b strings.Builder
		if err := Write(&b, f); err != nil {
			t.Fatal(err)
		}
		g, err := Parse(strings.NewReader(b.String()), Limits{})
		if err != nil {
			t.Fatalf("%q: %v\n%s", s, err, b.String())
		}
		if d := diff(f, g); d != "" {
			t.Errorf("%q: %s", s, d)
		}
	}
}
