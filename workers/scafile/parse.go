package scafile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/simswarm/simswarm/internal/textutil"
)

// Limits bound what Parse accepts; a zero field takes its default.
type Limits struct {
	MaxLine  int   // bytes in one line; default 1 MiB
	MaxBytes int64 // bytes in the file; default 64 MiB
	MaxItems int   // records kept (attrs, scalars, fields, bins, ...); default 1,000,000
}

const (
	defaultMaxLine  = 1 << 20
	defaultMaxBytes = 64 << 20
	defaultMaxItems = 1_000_000
	// MaxSkipped bounds File.Skipped (SkippedCount still counts them all).
	MaxSkipped = 100
)

func (l Limits) withDefaults() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = defaultMaxLine
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = defaultMaxBytes
	}
	if l.MaxItems <= 0 {
		l.MaxItems = defaultMaxItems
	}
	return l
}

// ParseError is a malformed file: the line and what is wrong with it.
type ParseError struct {
	Line  int // 1-based; 0 for the file as a whole
	Msg   string
	limit bool
}

// Unwrap makes a ParseError of a file beyond its Limits an ErrLimit.
func (e *ParseError) Unwrap() error {
	if e.limit {
		return ErrLimit
	}
	return nil
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "sca: " + e.Msg
	}
	return fmt.Sprintf("sca line %d: %s", e.Line, e.Msg)
}

// ErrLimit is wrapped by the ParseError of a file beyond its Limits.
var ErrLimit = errors.New("beyond the limit")

// countingReader refuses to read beyond max bytes.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errTooBig = errors.New("file too big")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, errTooBig
	}
	if rest := c.max + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, errTooBig
	}
	return n, err
}

type item int

const (
	inNone item = iota
	inRun
	inPar
	inScalar
	inStatistic
)

// maxTokens is more than any record has, so that a line of many tokens is
// refused as malformed without being split further.
const maxTokens = 8

// Parse reads a .sca file. See the package documentation for what it
// accepts and guarantees.
func Parse(r io.Reader, lim Limits) (*File, error) {
	lim = lim.withDefaults()
	cr := &countingReader{r: r, max: lim.MaxBytes}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 0, min(4<<10, lim.MaxLine+1)), lim.MaxLine+1)
	p := parser{f: &File{}, lim: lim}
	toks := make([]string, 0, maxTokens)
	tooBig := &ParseError{0, fmt.Sprintf("file larger than %d bytes", lim.MaxBytes), true}
	for sc.Scan() {
		if cr.n > cr.max {
			return nil, tooBig // the scanner hands out a cut last line too
		}
		p.line++
		line := strings.TrimRight(sc.Text(), "\r")
		if len(line) > lim.MaxLine {
			return nil, &ParseError{p.line, fmt.Sprintf("line longer than %d bytes", lim.MaxLine), true}
		}
		if strings.IndexByte(line, 0) >= 0 || !utf8.ValidString(line) {
			return nil, &ParseError{p.line, "binary content (a NUL byte or invalid UTF-8): not a text .sca file", false}
		}
		var err error
		toks, err = tokenize(line, toks, maxTokens)
		if err == nil {
			err = p.record(toks)
		}
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return nil, err
			}
			return nil, &ParseError{p.line, err.Error(), false}
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, errTooBig) || cr.n > cr.max:
		return nil, tooBig
	case errors.Is(err, bufio.ErrTooLong):
		return nil, &ParseError{p.line + 1, fmt.Sprintf("line longer than %d bytes", lim.MaxLine), true}
	case err != nil:
		return nil, fmt.Errorf("read sca: %w", err)
	}
	return p.f, nil
}

// recordTokens is the number of tokens of each known record type.
var recordTokens = map[string]int{"version": 2, "run": 2, "attr": 3, "itervar": 3, "config": 3, "param": 3,
	"par": 4, "scalar": 4, "statistic": 3, "field": 3, "bin": 3}

type parser struct {
	f     *File
	lim   Limits
	line  int
	items int
	cur   item
}

func (p *parser) fail(format string, args ...any) error {
	return &ParseError{p.line, fmt.Sprintf(format, args...), false}
}

func (p *parser) run() *Run { return p.f.Runs[len(p.f.Runs)-1] }

func (p *parser) record(t []string) error {
	if len(t) == 0 || strings.HasPrefix(t[0], "#") {
		return nil
	}
	for _, s := range t {
		if !utf8.ValidString(s) {
			return p.fail("a quoted string's escapes make invalid UTF-8")
		}
	}
	want := recordTokens[t[0]]
	if want == 0 {
		p.f.SkippedCount++
		if len(p.f.Skipped) < MaxSkipped {
			rec := t[0]
			if len(rec) > 64 {
				rec = strings.ToValidUTF8(rec[:64], "")
			}
			p.f.Skipped = append(p.f.Skipped, Skip{Line: p.line, Record: rec})
		}
		return nil
	}
	if len(t) != want {
		return p.fail("%s: %d fields, want %d", t[0], len(t)-1, want-1)
	}
	if t[0] != "version" && t[0] != "run" && p.cur == inNone {
		return p.fail("%s before any run line", t[0])
	}
	p.items++
	if p.items > p.lim.MaxItems {
		return &ParseError{p.line, fmt.Sprintf("more than %d items", p.lim.MaxItems), true}
	}
	switch t[0] {
	case "version":
		v, err := strconv.Atoi(t[1])
		if err != nil || (v != 2 && v != 3) {
			return p.fail("version %q: want 2 or 3", t[1])
		}
		p.f.Version = v
	case "run":
		p.f.Runs = append(p.f.Runs, &Run{ID: t[1]})
		p.cur = inRun
	case "attr":
		kv := KV{t[1], t[2]}
		r := p.run()
		switch p.cur {
		case inRun:
			r.Attrs = append(r.Attrs, kv)
		case inPar:
			a := &r.Params[len(r.Params)-1]
			a.Attrs = append(a.Attrs, kv)
		case inScalar:
			a := &r.Scalars[len(r.Scalars)-1]
			a.Attrs = append(a.Attrs, kv)
		case inStatistic:
			a := &r.Statistics[len(r.Statistics)-1]
			a.Attrs = append(a.Attrs, kv)
		}
	case "itervar", "config", "param":
		if p.cur != inRun {
			return p.fail("%s after a result item: it belongs to the run's header", t[0])
		}
		r := p.run()
		if t[0] == "itervar" {
			r.Itervars = append(r.Itervars, KV{t[1], t[2]})
		} else {
			r.Config = append(r.Config, KV{t[1], t[2]})
		}
	case "par":
		r := p.run()
		r.Params = append(r.Params, Param{Module: t[1], Name: t[2], Value: t[3]})
		p.cur = inPar
	case "scalar":
		v, ok := parseNumber(t[3])
		if !ok {
			return p.fail("scalar %s %s: value %q is not a number", t[1], t[2], textutil.Truncate(t[3], 40))
		}
		r := p.run()
		r.Scalars = append(r.Scalars, Scalar{Module: t[1], Name: t[2], Value: v})
		p.cur = inScalar
	case "statistic":
		r := p.run()
		r.Statistics = append(r.Statistics, Statistic{Module: t[1], Name: t[2]})
		p.cur = inStatistic
	case "field", "bin":
		if p.cur != inStatistic {
			return p.fail("%s line not under a statistic", t[0])
		}
		s := &p.run().Statistics[len(p.run().Statistics)-1]
		if t[0] == "field" {
			v, ok := parseNumber(t[2])
			if !ok {
				return p.fail("field %s: value %q is not a number", t[1], textutil.Truncate(t[2], 40))
			}
			s.Fields = append(s.Fields, Field{t[1], v})
			return nil
		}
		lo, ok1 := parseNumber(t[1])
		v, ok2 := parseNumber(t[2])
		if !ok1 || !ok2 || lo != lo {
			return p.fail("bin %q %q: not two numbers", textutil.Truncate(t[1], 40), textutil.Truncate(t[2], 40))
		}
		if n := len(s.Bins); n > 0 && lo < s.Bins[n-1].Lower {
			return p.fail("bin edges must not decrease (%g after %g)", lo, s.Bins[n-1].Lower)
		}
		s.Bins = append(s.Bins, Bin{lo, v})
	}
	return nil
}
