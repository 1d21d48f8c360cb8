package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/internal/textutil"
)

// Repetition is the name of the built-in variable that repeat = N adds.
const Repetition = "repetition"

// predefined are OMNeT++'s configuration variables (cconfiguration.h
// CFGVAR_*): ${configname} and the like may be referred to, never defined.
var predefined = map[string]bool{
	"runid": true, "inifile": true, "configname": true, "runnumber": true, "network": true,
	"experiment": true, "measurement": true, "replication": true, "processid": true,
	"datetime": true, "datetimef": true, "resultdir": true, Repetition: true, "seedset": true,
	"iterationvars": true, "iterationvarsf": true, "iterationvarsd": true,
}

// varUse is one ${...} in a value: a definition (items set; name empty for
// an unnamed ${1,2,3}) or a reference ${name} to a variable defined
// elsewhere.
type varUse struct {
	name  string
	ref   bool
	body  string // the text between ${ and }, for messages
	items []item
	// deps are the variables the definition's values refer to ($a in
	// ${b=$a..5}); such a variable is an inner loop of those.
	deps []string
	// values are the definition's values when it has no deps.
	values []string
	// unsupported names what simswarm cannot evaluate in this definition;
	// a config that uses it is refused.
	unsupported string
}

// item is one comma-separated element of a definition: a text value, or a
// range "from..to [step s]" whose bounds are numbers or $variables.
type item struct {
	text           string
	isRange        bool
	from, to, step string
}

// parseVars finds the ${...} of a value, in order.
func parseVars(value string) ([]varUse, error) {
	var out []varUse
	rest := value
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			return out, nil
		}
		rest = rest[i+2:]
		end, err := closingBrace(rest)
		if err != nil {
			return nil, err
		}
		v, err := parseVar(rest[:end])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		rest = rest[end+1:]
	}
}

// closingBrace finds the '}' that ends a ${...}: the first one outside
// double quotes and outside nested parentheses, brackets and braces (so
// ${t=x${a}y} holds the reference ${a}), as OMNeT++'s tokenizer finds it.
func closingBrace(s string) (int, error) {
	inQuote, depth := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(' || c == '[' || c == '{':
			depth++
		case (c == ')' || c == ']') && depth > 0:
			depth--
		case c == '}' && depth > 0:
			depth--
		case c == '}':
			return i, nil
		}
	}
	return 0, fmt.Errorf("${%s lacks its closing '}'", textutil.Truncate(s, 40))
}

// OMNeT++'s character classes (opp_ctype.h): letters and bytes >= 128 start
// a variable name, which goes on with those and digits. '_' is neither, so
// ${my_var=1,2} is, to OMNeT++, the unnamed list "my_var=1", "2".
func isAlphaExt(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }
func isAlnumExt(c byte) bool { return isAlphaExt(c) || c >= '0' && c <= '9' }

// isVarNameChar is what may follow '$' in a reference inside a definition
// (valueiterator.cc).
func isVarNameChar(c byte) bool { return isAlnumExt(c) && c < 0x80 || c == '_' || c == '@' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// parseVar reads the inside of a ${...} as OMNeT++'s
// SectionBasedConfiguration::parseVariable does.
func parseVar(body string) (varUse, error) {
	s := strings.TrimLeft(body, " \t")
	var name, def string
	if s != "" && isAlphaExt(s[0]) {
		n := 1
		for n < len(s) && isAlnumExt(s[n]) {
			n++
		}
		rest := strings.TrimLeft(s[n:], " \t\n\r")
		switch {
		case rest == "":
			return varUse{name: s[:n], ref: true, body: body}, nil
		case rest[0] == '=' && !strings.HasPrefix(rest, "=="):
			name, def = s[:n], rest[1:]
		case strings.Contains(rest, ","):
			def = s // a list whose first item starts with a letter
		default:
			return varUse{}, fmt.Errorf("${%s}: missing '=' after the variable name %q (names are letters and digits)", body, s[:n])
		}
	} else {
		def = s
	}
	if predefined[name] {
		if name == Repetition {
			return varUse{}, fmt.Errorf("${%s}: $%s is set by repeat = N, not defined", body, Repetition)
		}
		return varUse{}, fmt.Errorf("${%s}: $%s is a predefined variable and cannot be defined", body, name)
	}
	v := varUse{name: name, body: body}
	if i := strings.LastIndexByte(def, '!'); i >= 0 {
		if p := strings.TrimSpace(def[i+1:]); p != "" && isAlphaExt(p[0]) && strings.IndexFunc(p, func(r rune) bool { return r < 0x80 && !isAlnumExt(byte(r)) }) < 0 {
			v.unsupported = fmt.Sprintf("parallel iteration (${%s})", body)
			return v, nil
		}
	}
	for _, tok := range splitList(def) {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue // OMNeT++'s tokenizer skips empty items
		}
		it, deps, unsupported, err := parseItem(tok)
		if err != nil {
			return varUse{}, fmt.Errorf("${%s}: %v", body, err)
		}
		if unsupported != "" && v.unsupported == "" {
			v.unsupported = unsupported
		}
		v.items = append(v.items, it)
		v.deps = appendNew(v.deps, deps...)
	}
	if len(v.items) == 0 {
		return varUse{}, fmt.Errorf("${%s}: no values", body)
	}
	for _, d := range v.deps {
		if d == Repetition && v.unsupported == "" {
			v.unsupported = fmt.Sprintf("$%s in an iteration variable (${%s})", Repetition, body)
		}
	}
	if len(v.deps) == 0 && v.unsupported == "" {
		vals, err := itemValues(v.items, nil)
		if err != nil {
			return varUse{}, fmt.Errorf("${%s}: %v", body, err)
		}
		if len(vals) == 0 {
			return varUse{}, fmt.Errorf("${%s}: no values", body)
		}
		if len(vals) > api.MaxRuns {
			return varUse{}, fmt.Errorf("${%s}: %d values, more than the limit of %d runs", body, len(vals), api.MaxRuns)
		}
		v.values = vals
	}
	return v, nil
}

func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		found := false
		for _, l := range list {
			found = found || l == n
		}
		if !found {
			list = append(list, n)
		}
	}
	return list
}

// parseItem splits a list item into a text or a range (valueiterator.cc
// Item::parse: ".." makes a range, "step" a word of its own the step).
func parseItem(tok string) (it item, deps []string, unsupported string, err error) {
	from, rest, isRange := strings.Cut(tok, "..")
	if !isRange {
		return item{text: tok}, refsIn(tok), "", nil
	}
	to, step := rest, "1"
	for off := 0; ; {
		i := strings.Index(rest[off:], "step")
		if i < 0 {
			break
		}
		i += off
		before := i > 0 && isAlnumExt(rest[i-1])
		after := i+4 < len(rest) && isAlnumExt(rest[i+4])
		if !before && !after {
			to, step = rest[:i], rest[i+4:]
			break
		}
		off = i + 4
	}
	it = item{isRange: true, from: strings.TrimSpace(from), to: strings.TrimSpace(to), step: strings.TrimSpace(step)}
	for _, b := range []struct{ what, s string }{{"start", it.from}, {"end", it.to}, {"step", it.step}} {
		switch {
		case b.s == "":
			return item{}, nil, "", fmt.Errorf("range %s is missing", b.what)
		case isVarRef(b.s):
			deps = appendNew(deps, varRefName(b.s))
		default:
			if _, ok := parseNumber(b.s); !ok && unsupported == "" {
				unsupported = fmt.Sprintf("the expression %s in a range", b.s)
			}
		}
	}
	return it, deps, unsupported, nil
}

// isVarRef reports whether s is exactly "$name" or "${name}".
func isVarRef(s string) bool { return varRefName(s) != "" }

func varRefName(s string) string {
	if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
		s = "$" + s[2:len(s)-1]
	}
	if len(s) < 2 || s[0] != '$' {
		return ""
	}
	for i := 1; i < len(s); i++ {
		if !isVarNameChar(s[i]) {
			return ""
		}
	}
	return s[1:]
}

// refsIn lists the $name and ${name} references of a text value, as
// OMNeT++'s opp_substitutevariables finds them.
func refsIn(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		start := i + 1
		if start < len(s) && s[start] == '{' {
			start++
		}
		end := start
		for end < len(s) && isVarNameChar(s[end]) {
			end++
		}
		if end > start && (start == i+1 || end < len(s) && s[end] == '}') {
			out = appendNew(out, s[start:end])
		}
		i = end - 1
	}
	return out
}

// expand substitutes variables into s from env.
func expand(s string, env map[string]string) (string, error) {
	var b strings.Builder
	var missing string
	for prev := 0; prev < len(s); {
		d := strings.IndexByte(s[prev:], '$')
		if d < 0 {
			b.WriteString(s[prev:])
			break
		}
		d += prev
		b.WriteString(s[prev:d])
		start := d + 1
		if start < len(s) && s[start] == '{' {
			start++
		}
		end := start
		for end < len(s) && isVarNameChar(s[end]) {
			end++
		}
		switch {
		case end == start:
			b.WriteString(s[d:start])
		case start == d+2 && (end == len(s) || s[end] != '}'):
			b.WriteString(s[d:end])
		default:
			v, ok := env[s[start:end]]
			if !ok && missing == "" {
				missing = s[start:end]
			}
			b.WriteString(v)
			if start == d+2 {
				end++
			}
		}
		prev = end
	}
	if missing != "" {
		return "", fmt.Errorf("unknown variable $%s", missing)
	}
	return b.String(), nil
}

// itemValues lists the values of a definition's items, with the variables
// of env substituted (ranges: valueiterator.cc Item::getNumValues and
// getValueAsString).
func itemValues(items []item, env map[string]string) ([]string, error) {
	var out []string
	for _, it := range items {
		if !it.isRange {
			v, err := expand(it.text, env)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		nums, err := rangeNumbers(it, env)
		if err != nil {
			return nil, err
		}
		if len(out)+len(nums) > api.MaxRuns {
			return nil, fmt.Errorf("more than the limit of %d values", api.MaxRuns)
		}
		for _, f := range nums {
			out = append(out, formatG(f))
		}
	}
	return out, nil
}

// rangeNumbers expands a range: from + k*step for k < floor((to - from +
// 1.000001*step) / step), exactly OMNeT++'s count (the 1.000001 keeps an end
// point that floating-point steps reach only approximately, so 0..1 step 0.1
// has 11 values); a step may be negative, and a range may be empty.
func rangeNumbers(it item, env map[string]string) ([]float64, error) {
	var f [3]float64
	for i, b := range []struct{ what, s string }{{"start", it.from}, {"end", it.to}, {"step", it.step}} {
		s, err := expand(b.s, env)
		if err != nil {
			return nil, err
		}
		n, ok := parseNumber(s)
		if !ok {
			return nil, fmt.Errorf("range %s %q is not a number", b.what, s)
		}
		f[i] = n
	}
	from, to, step := f[0], f[1], f[2]
	if step == 0 {
		return nil, fmt.Errorf("range %s..%s has step 0", it.from, it.to)
	}
	count := math.Floor((to - from + 1.000001*step) / step)
	if count <= 0 {
		return nil, nil
	}
	if count > api.MaxRuns {
		return nil, fmt.Errorf("range has %.0f values, more than the limit of %d runs", count, api.MaxRuns)
	}
	nums := make([]float64, int(count))
	for k := range nums {
		nums[k] = from + step*float64(k)
	}
	return nums, nil
}

// splitList splits at commas outside double quotes and parentheses,
// brackets and braces (OMNeT++'s StringTokenizer with HONOR_QUOTES |
// HONOR_PARENS).
func splitList(s string) []string {
	var out []string
	inQuote, depth, start := false, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(' || c == '[' || c == '{':
			depth++
		case (c == ')' || c == ']' || c == '}') && depth > 0:
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseNumber reads a plain decimal number (what a range bound is when it
// is not a $variable).
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "xXpP_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// formatG formats like C's printf("%g").
func formatG(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }
