package runidentity

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/internal/textutil"
)

// MaxLine is the longest line the Scanner accepts (a resolved entry may
// hold a long string or an inline XML document).
const MaxLine = 16 << 20

// Run is one run as the program lists it.
type Run struct {
	// Number is the run number in its config.
	Number int
	// Vars are the iteration variables as printed after "Run N: "
	// ("$numHosts=10, $iaMean=2, $repetition=1"), the same text as
	// `-q runs` prints.
	Vars string
	// Entries are the run's resolved configuration entries in the
	// program's order (an earlier entry wins in OMNeT++, so the order
	// matters); none for `-q runs` output.
	Entries []Entry
	// Files is a digest of the data files the run's entries name (a file
	// read by readFile or xmldoc, a trace named by a string parameter),
	// which the caller reads: this package does no I/O. "" for none; the
	// Scanner leaves it empty.
	Files string
}

// Entry is one resolved configuration entry, "Key = Value".
type Entry struct {
	Key, Value string
}

// Scanner reads the output of `-q runconfig` or `-q runs` one run at a
// time.
type Scanner struct {
	sc       *bufio.Scanner
	line     int
	cur      Run
	next     *Run // a run whose header was read while finishing cur
	seen     int
	prev     int
	declared int
	done     bool
	eof      bool // the input ended with the run last emitted
	err      error
}

// NewScanner reads r.
func NewScanner(r io.Reader) *Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	return &Scanner{sc: sc, prev: -1, declared: -1}
}

// Scan advances to the next run; false at the end or on an error (Err
// tells which).
func (s *Scanner) Scan() bool {
	if s.done {
		if s.eof {
			s.eof = false
			s.finish()
		}
		return false
	}
	var run *Run
	if s.next != nil {
		run, s.next = s.next, nil
	}
	for s.sc.Scan() {
		s.line++
		l := s.sc.Bytes()
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(l) > 0 && l[0] == '\t' {
			if run == nil {
				return s.fail(fmt.Errorf("line %d: an entry outside a run", s.line))
			}
			e, err := parseEntry(string(l[1:]))
			if err != nil {
				return s.fail(fmt.Errorf("line %d: %w", s.line, err))
			}
			run.Entries = append(run.Entries, e)
			continue
		}
		t := strings.TrimSpace(string(l))
		if rest, ok := strings.CutPrefix(t, "Number of runs selected:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
				s.declared = n
			}
			continue
		}
		if rest, ok := strings.CutPrefix(t, "Number of runs:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && s.declared < 0 {
				s.declared = n
			}
			continue
		}
		rest, ok := strings.CutPrefix(t, "Run ")
		if !ok {
			continue // banner, "Config: ...", "End.", blank lines
		}
		num, vars, ok := strings.Cut(rest, ":")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			continue // not a run line ("Run numbers: ..." and the like)
		}
		if n <= s.prev {
			return s.fail(fmt.Errorf("line %d: run %d listed after run %d", s.line, n, s.prev))
		}
		s.prev = n
		header := &Run{Number: n, Vars: strings.TrimSpace(vars)}
		if run != nil {
			s.next = header
			return s.emit(run)
		}
		run = header
	}
	if err := s.sc.Err(); err != nil {
		return s.fail(fmt.Errorf("line %d: %w", s.line+1, err))
	}
	s.done = true
	if run != nil {
		s.eof = true // checked at the next call
		return s.emit(run)
	}
	s.finish()
	return false
}

// finish checks the count of a listing read to its end.
func (s *Scanner) finish() {
	if s.declared >= 0 && s.declared != s.seen {
		s.err = fmt.Errorf("the program says %d runs but lists %d", s.declared, s.seen)
	} else if s.seen == 0 && s.declared != 0 {
		s.err = fmt.Errorf("no runs in the output")
	}
}

func (s *Scanner) emit(r *Run) bool {
	s.cur = *r
	s.seen++
	return true
}

func (s *Scanner) fail(err error) bool {
	s.err, s.done, s.eof, s.next = err, true, false, nil
	return false
}

// Run is the run Scan advanced to.
func (s *Scanner) Run() Run { return s.cur }

// Err is the error that ended the scan, nil at a clean end.
func (s *Scanner) Err() error { return s.err }

// parseEntry splits "key = value" as OMNeT++ prints it; the value may hold
// " = " itself, and may be empty.
func parseEntry(l string) (Entry, error) {
	if k, v, ok := strings.Cut(l, " = "); ok && k != "" {
		return Entry{Key: k, Value: v}, nil
	}
	if k, ok := strings.CutSuffix(l, " ="); ok && k != "" {
		return Entry{Key: k}, nil
	}
	return Entry{}, fmt.Errorf("entry %q is not \"key = value\"", textutil.Truncate(l, 80))
}

// Parse reads a whole listing; for outputs of any size, use a Scanner.
func Parse(r io.Reader) ([]Run, error) {
	var runs []Run
	sc := NewScanner(r)
	for sc.Scan() {
		runs = append(runs, sc.Run())
	}
	return runs, sc.Err()
}

// ParseBase reads the answer to BaseArgv (a `-r 0 -q runconfig`
// listing): run 0 alone, the base of WithBase.
func ParseBase(r io.Reader) (Run, error) {
	runs, err := Parse(r)
	if err != nil {
		return Run{}, err
	}
	if len(runs) != 1 || runs[0].Number != 0 {
		return Run{}, fmt.Errorf("lists %d runs, want run 0 alone", len(runs))
	}
	return runs[0], nil
}

// Format writes runs as `-q runconfig -s` prints them (tests and stand-in
// programs use it; Parse reads it back).
func Format(w io.Writer, runs []Run) error {
	bw := bufio.NewWriter(w)
	for _, r := range runs {
		fmt.Fprintf(bw, "Run %d: %s\n", r.Number, r.Vars)
		for _, e := range r.Entries {
			fmt.Fprintf(bw, "\t%s = %s\n", e.Key, e.Value)
		}
	}
	return bw.Flush()
}
