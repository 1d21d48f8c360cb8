package sweep

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/api"
)

// MaxIniBytes bounds an ini file.
const MaxIniBytes = 4 << 20

// General is the name of the [General] section, the root of every config.
const General = "General"

// Error is a problem at a line of an ini file.
type Error struct {
	File string
	Line int // 0 when the problem has no single line
	Msg  string
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
	name        string // General or the config's name
	line        int
	extends     string
	extendsLine int
	entries     []*entry
	byKey       map[string]*entry
}

type entry struct {
	key, value string
	line       int
	vars       []varUse // the ${...} of value, in order
}

// Name is the file name the ini was parsed from (used in errors).
func (ini *Ini) Name() string { return ini.name }

// Configs lists the file's configs in file order: General (if the file has
// a [General] section) and every [Config NAME].
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
	text := strings.TrimSpace(stripComment(raw))
	switch {
	case text == "":
		return nil
	case strings.HasPrefix(text, "["):
		return p.header(text)
	}
	if first, _, _ := strings.Cut(text, " "); first == "include" || strings.HasPrefix(text, "include\t") {
		return p.errorf("include is not supported")
	}
	key, value, ok := strings.Cut(text, "=")
	if !ok {
		return p.errorf("expected \"key = value\", \"[General]\" or \"[Config NAME]\", got %q", truncate(text, 60))
	}
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	if key == "" {
		return p.errorf("missing key before '='")
	}
	if strings.ContainsAny(key, " \t\"$") {
		return p.errorf("%q is not a valid key", truncate(key, 60))
	}
	if p.cur == nil {
		return p.errorf("%q is outside a section: start the file with [General]", key)
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
		if strings.Contains(value, ",") {
			return p.errorf("extends = %s: only a single parent config is supported", value)
		}
		if !api.ValidConfigName(value) {
			return p.errorf("extends = %q: not a config name", value)
		}
		if value == s.name {
			return p.errorf("config %s extends itself", s.name)
		}
		s.extends, s.extendsLine = value, p.lineNo
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

func (s *section) header() string {
	if s.name == General {
		return General
	}
	return "Config " + s.name
}

func (p *parser) header(text string) error {
	if !strings.HasSuffix(text, "]") {
		return p.errorf("section header %q lacks its closing ']'", truncate(text, 60))
	}
	inner := strings.Fields(text[1 : len(text)-1])
	var name string
	switch {
	case len(inner) == 1 && inner[0] == General:
		name = General
	case len(inner) == 2 && inner[0] == "Config" && inner[1] != General && api.ValidConfigName(inner[1]):
		name = inner[1]
	default:
		return p.errorf("section header %q: want [General] or [Config NAME] (NAME: letters, digits, '_', '.', '-')", truncate(text, 60))
	}
	if prev, dup := p.ini.byName[name]; dup {
		return p.errorf("section [%s] appears twice (first at line %d)", prev.header(), prev.line)
	}
	s := &section{name: name, line: p.lineNo, byKey: map[string]*entry{}}
	p.ini.sections = append(p.ini.sections, s)
	p.ini.byName[name] = s
	p.cur = s
	return nil
}

// checkExtends makes sure every parent exists and no chain is a cycle.
func (ini *Ini) checkExtends() error {
	for _, s := range ini.sections {
		if s.extends == "" || s.extends == General {
			continue
		}
		if _, ok := ini.byName[s.extends]; !ok {
			return &Error{File: ini.name, Line: s.extendsLine, Msg: fmt.Sprintf("config %s extends %s, which is not defined", s.name, s.extends)}
		}
	}
	for _, s := range ini.sections {
		seen := map[string]bool{}
		for c := s; c != nil; c = ini.parent(c) {
			if seen[c.name] {
				return &Error{File: ini.name, Line: s.extendsLine, Msg: fmt.Sprintf("config %s: extends chain is a cycle", s.name)}
			}
			seen[c.name] = true
		}
	}
	return nil
}

// parent is the section s extends (General for a config without extends),
// or nil for General.
func (ini *Ini) parent(s *section) *section {
	if s.name == General {
		return nil
	}
	if s.extends == "" || s.extends == General {
		return ini.byName[General] // may be nil: a file without [General]
	}
	return ini.byName[s.extends]
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
