package resulttable

import (
	"fmt"
	"regexp"
	"strings"
)

// Filter selects values by patterns on "<module>.<name>".
type Filter struct {
	res   []*regexp.Regexp
	cache map[[2]string]bool
}

// NewFilter compiles patterns (see the package documentation); none
// selects every value.
func NewFilter(patterns []string) (*Filter, error) {
	f := &Filter{cache: map[[2]string]bool{}}
	for _, p := range patterns {
		re, err := globRegexp(p)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		f.res = append(f.res, re)
	}
	return f, nil
}

// Match reports whether the value name of module is selected. Not safe
// for concurrent use (it remembers its answers).
func (f *Filter) Match(module, name string) bool {
	if len(f.res) == 0 {
		return true
	}
	k := [2]string{module, name}
	if m, ok := f.cache[k]; ok {
		return m
	}
	full := module + "." + name
	m := false
	for _, re := range f.res {
		if re.MatchString(full) {
			m = true
			break
		}
	}
	if len(f.cache) < 1<<16 {
		f.cache[k] = m
	}
	return m
}

// globRegexp translates an OMNeT++-style glob into an anchored regexp.
func globRegexp(p string) (*regexp.Regexp, error) {
	if len(p) > 1024 {
		return nil, fmt.Errorf("longer than 1024 bytes")
	}
	var b strings.Builder
	b.WriteString(`^`)
	depth := 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				b.WriteString(`.*`)
				i++
			} else {
				b.WriteString(`[^.]*`)
			}
		case '?':
			b.WriteString(`[^.]`)
		case '{':
			depth++
			b.WriteString(`(?:`)
		case '}':
			if depth == 0 {
				return nil, fmt.Errorf("unmatched }")
			}
			depth--
			b.WriteString(`)`)
		case ',':
			if depth > 0 {
				b.WriteString(`|`)
			} else {
				b.WriteString(`,`)
			}
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unmatched {")
	}
	b.WriteString(`$`)
	return regexp.Compile(b.String())
}
