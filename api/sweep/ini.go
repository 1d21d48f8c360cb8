package sweep

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/internal/textutil"
)

// MaxIniBytes bounds an ini file.
const MaxIniBytes = 4 << 20

// General is the name of the [General] section, the root of every config.
const General = "General"

// ErrUnsupported marks the refusals: valid OMNeT++ input that this
// package does not evaluate (include, constraint, expressions, ...). Only
// the program itself (opp_run -q runs) can list such a config's runs;
// errors.Is(err, ErrUnsupported) tells a refusal from a broken ini.
var ErrUnsupported = errors.New("not supported by simswarm's ini reader")

// Error is a problem at a line of an ini file.
type Error struct {
	File string
	Line int // 0 when the problem has no single line
	Msg  string
	// Unsupported marks a refusal (errors.Is(err, ErrUnsupported)).
	Unsupported bool
}

// Is makes a refusal match ErrUnsupported.
func (e *Error) Is(target error) bool { return target == ErrUnsupported && e.Unsupported }

// unsupportedMsg is the message of a refusal of feature in config.
func unsupportedMsg(feature, config string) string {
	if config == "" {
		return feature + " is " + ErrUnsupported.Error() + " (only the program can list the runs: opp_run -q runs)"
	}
	return fmt.Sprintf("%s is %s (only the program can list these runs: opp_run -c %s -q runs)", feature, ErrUnsupported, config)
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Ini is a parsed ini file.
type Ini struct {
	name     string
	sections []*section // in file order
	byName   map[string]*section
}

type section struct {
	name        string   // General or the config's name
	line        int      // of the header; 0 for General made by keys before any header
	extends     []string // the parents named by "extends", in order
	extendsLine int
	entries     []*entry
	byKey       map[string]*entry
	chain       []*section // the C3 linearization, computed once by checkExtends
}

type entry struct {
	key, value string
	line       int
	vars       []varUse // the ${...} of value, in order
}

// Name is the file name the ini was parsed from (used in errors).
func (ini *Ini) Name() string { return ini.name }

// Configs lists the file's configs in file order: General (if the file has
// a [General] section or keys before its first header) and every
// [Config NAME] or [NAME].
func (ini *Ini) Configs() []string {
	out := make([]string, 0, len(ini.sections))
	for _, s := range ini.sections {
		out = append(out, s.name)
	}
	return out
}

// ParseFile reads and parses an ini file.
func ParseFile(path string) (*Ini, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read ini: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxIniBytes {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is %d bytes, more than the limit of %d", st.Size(), MaxIniBytes)}
	}
	return Parse(f, path)
}

// Parse parses an ini file read from r; name is used in errors.
func Parse(r io.Reader, name string) (*Ini, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxIniBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read ini %s: %w", name, err)
	}
	if len(data) > MaxIniBytes {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file is more than the limit of %d bytes", MaxIniBytes)}
	}
	p := &parser{ini: &Ini{name: name, byName: map[string]*section{}}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxIniBytes+1)
	for sc.Scan() {
		p.lineNo++
		if err := p.line(sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ini %s: %w", name, err)
	}
	if err := p.ini.checkExtends(); err != nil {
		return nil, err
	}
	return p.ini, nil
}

type parser struct {
	ini    *Ini
	cur    *section
	lineNo int
}

func (p *parser) errorf(format string, args ...any) error {
	return &Error{File: p.ini.name, Line: p.lineNo, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) line(raw string) error {
	if strings.TrimSpace(raw) != "" && (raw[0] == ' ' || raw[0] == '\t') && !strings.HasPrefix(strings.TrimSpace(raw), "#") {
		// OMNeT++ joins an indented line to the line before it.
		return p.unsupportedf("an indented line (OMNeT++ continues the previous line with it)")
	}
	text := strings.TrimSpace(stripComment(raw))
	switch {
	case text == "":
		return nil
	case strings.HasSuffix(text, "\\"):
		return p.unsupportedf("a line ending in a backslash (OMNeT++ continues it on the next line)")
	case strings.HasPrefix(text, "["):
		return p.header(text)
	}
	if first, _, _ := strings.Cut(text, " "); first == "include" || strings.HasPrefix(text, "include\t") {
		return p.unsupportedf("include")
	}
	key, value, ok := strings.Cut(text, "=")
	if !ok {
		return p.errorf("expected \"key = value\", \"[General]\" or \"[Config NAME]\", got %q", textutil.Truncate(text, 60))
	}
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	if key == "" {
		return p.errorf("missing key before '='")
	}
	if strings.ContainsAny(key, " \t\"$") {
		return p.errorf("%q is not a valid key", textutil.Truncate(key, 60))
	}
	if p.cur == nil {
		// OMNeT++ puts keys before the first header into [General].
		p.cur = p.section(General, 0)
	}
	s := p.cur
	if prev, dup := s.byKey[key]; dup {
		return p.errorf("%s is set twice in [%s] (first at line %d)", key, s.header(), prev.line)
	}
	e := &entry{key: key, value: value, line: p.lineNo}
	switch key {
	case "extends":
		if s.name == General {
			return p.errorf("[General] cannot extend another config")
		}
		// sectionbasedconfig.cc getBaseConfigIds: names separated by
		// commas, spaces or tabs.
		parents := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		if len(parents) == 0 {
			return p.errorf("extends = %q: not a config name", value)
		}
		for _, parent := range parents {
			if !validSectionName(parent) {
				return p.errorf("extends = %s: %q is not a config name", value, parent)
			}
			if parent == s.name {
				return p.errorf("config %s extends itself", s.name)
			}
		}
		s.extends, s.extendsLine = parents, p.lineNo
	case "repeat":
		if _, err := parseRepeat(value); err != nil {
			return p.errorf("%v", err)
		}
	default:
		vars, err := parseVars(value)
		if err != nil {
			return p.errorf("%s: %v", key, err)
		}
		e.vars = vars
	}
	s.entries = append(s.entries, e)
	s.byKey[key] = e
	return nil
}

func (p *parser) unsupportedf(format string, args ...any) error {
	return &Error{File: p.ini.name, Line: p.lineNo, Msg: unsupportedMsg(fmt.Sprintf(format, args...), ""), Unsupported: true}
}

// section returns the section called name, made if new.
func (p *parser) section(name string, line int) *section {
	if s, ok := p.ini.byName[name]; ok {
		return s
	}
	s := &section{name: name, line: line, byKey: map[string]*entry{}}
	p.ini.sections = append(p.ini.sections, s)
	p.ini.byName[name] = s
	return s
}

// validSectionName is OMNeT++'s rule for section names
// (SectionBasedConfiguration::validate): a letter or '_', then letters,
// digits, '-', '_' and '@'.
func validSectionName(s string) bool {
	if s == "" || !(isAlphaExt(s[0]) || s[0] == '_') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnumExt(s[i]) && !strings.ContainsRune("-_@", rune(s[i])) {
			return false
		}
	}
	return true
}

func (s *section) header() string {
	if s.name == General {
		return General
	}
	return "Config " + s.name
}

func (p *parser) header(text string) error {
	if !strings.HasSuffix(text, "]") {
		return p.errorf("section header %q lacks its closing ']'", textutil.Truncate(text, 60))
	}
	// inifilereader.cc: the "Config " prefix is optional since OMNeT++ 6.
	name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text[1:len(text)-1]), "Config "))
	if !validSectionName(name) {
		return p.errorf("section header %q: want [General], [Config NAME] or [NAME] (NAME: a letter or '_', then letters, digits, '-', '_', '@')", textutil.Truncate(text, 60))
	}
	if prev, dup := p.ini.byName[name]; dup && prev.line > 0 {
		return p.errorf("section [%s] appears twice (first at line %d)", prev.header(), prev.line)
	}
	s := p.section(name, p.lineNo)
	s.line = p.lineNo
	p.cur = s
	return nil
}

// checkExtends makes sure every parent exists and computes each section's
// fallback chain, refusing cycles and chains OMNeT++ cannot linearize.
func (ini *Ini) checkExtends() error {
	for _, s := range ini.sections {
		for _, parent := range s.extends {
			if _, ok := ini.byName[parent]; !ok && parent != General {
				return &Error{File: ini.name, Line: s.extendsLine, Msg: fmt.Sprintf("config %s extends %s, which is not defined", s.name, parent)}
			}
		}
	}
	for _, s := range ini.sections {
		if _, err := ini.linearize(s, map[*section]bool{}); err != nil {
			return err
		}
	}
	return nil
}

// parents are the sections s falls back to directly, in the order of its
// extends (General for a config without extends; none for General).
func (ini *Ini) parents(s *section) []*section {
	if s.name == General {
		return nil
	}
	if len(s.extends) == 0 {
		if g := ini.byName[General]; g != nil {
			return []*section{g}
		}
		return nil
	}
	var out []*section
	for _, name := range s.extends {
		if p := ini.byName[name]; p != nil { // "extends = General" without a [General] section
			out = append(out, p)
		}
	}
	return out
}

// linearize computes s's section chain: s, then the merge of its parents'
// chains and the parents themselves, by the C3 rule OMNeT++ uses
// (sectionbasedconfig.cc computeSectionChain, mergeSectionChains,
// selectNext): the next section is the head of the first list that is in no
// list's tail.
func (ini *Ini) linearize(s *section, visiting map[*section]bool) ([]*section, error) {
	if s.chain != nil {
		return s.chain, nil
	}
	if visiting[s] {
		return nil, &Error{File: ini.name, Line: s.extendsLine, Msg: fmt.Sprintf("config %s: extends chain is a cycle", s.name)}
	}
	visiting[s] = true
	defer delete(visiting, s)
	parents := ini.parents(s)
	var lists [][]*section
	for _, p := range parents {
		c, err := ini.linearize(p, visiting)
		if err != nil {
			return nil, err
		}
		lists = append(lists, append([]*section(nil), c...))
	}
	lists = append(lists, append([]*section(nil), parents...))
	out := []*section{s}
	for {
		empty := true
		var next *section
		for _, l := range lists {
			if len(l) == 0 {
				continue
			}
			empty = false
			if next == nil && !inTail(lists, l[0]) {
				next = l[0]
			}
		}
		if empty {
			break
		}
		if next == nil {
			return nil, &Error{File: ini.name, Line: s.extendsLine, Msg: fmt.Sprintf("config %s: the configs it extends cannot be put in one fallback order (OMNeT++: section fallback chain inconsistency)", s.name)}
		}
		out = append(out, next)
		for i, l := range lists {
			if len(l) > 0 && l[0] == next {
				lists[i] = l[1:]
			}
		}
	}
	s.chain = out
	return out, nil
}

func inTail(lists [][]*section, s *section) bool {
	for _, l := range lists {
		for _, t := range l[min(1, len(l)):] {
			if t == s {
				return true
			}
		}
	}
	return false
}

// stripComment cuts a '#' comment that is outside double quotes.
func stripComment(s string) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case '#':
			if !inQuote {
				return s[:i]
			}
		}
	}
	return s
}

func parseRepeat(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("repeat = %s: want a whole number >= 1", v)
	}
	if n > api.MaxRuns {
		return 0, fmt.Errorf("repeat = %d: more than the limit of %d runs", n, api.MaxRuns)
	}
	return n, nil
}
