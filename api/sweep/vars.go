package sweep

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/api"
)

// Repetition is the name of the built-in variable that repeat = N adds.
const Repetition = "repetition"

// varUse is one ${...} in a value: a definition (values set) or a
// reference to a variable defined elsewhere.
type varUse struct {
	name   string
	ref    bool
	values []string
}

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

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

// closingBrace finds the '}' that ends a ${...}, skipping quoted strings.
func closingBrace(s string) (int, error) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			return 0, fmt.Errorf("nested ${...} is not supported")
		case c == '}':
			return i, nil
		}
	}
	return 0, fmt.Errorf("${%s lacks its closing '}'", truncate(s, 40))
}

func parseVar(body string) (varUse, error) {
	name, def, isDef := strings.Cut(body, "=")
	name = strings.TrimSpace(name)
	if !isDef {
		if !varNameRE.MatchString(name) {
			return varUse{}, fmt.Errorf("${%s}: iteration variable needs a name, as in ${x=%s}", body, strings.TrimSpace(body))
		}
		return varUse{name: name, ref: true}, nil
	}
	if name == "" || !varNameRE.MatchString(name) {
		if name == "" {
			return varUse{}, fmt.Errorf("${%s}: iteration variable needs a name", body)
		}
		return varUse{}, fmt.Errorf("${%s}: %q is not a variable name", body, name)
	}
	if name == Repetition {
		return varUse{}, fmt.Errorf("${%s}: $%s is set by repeat = N, not defined", body, Repetition)
	}
	var values []string
	var err error
	if strings.Contains(def, ",") {
		values, err = listValues(def)
	} else if isRange(def) {
		values, err = rangeValues(def)
	} else if v := strings.TrimSpace(def); v != "" {
		values = []string{v}
	} else {
		err = fmt.Errorf("no values")
	}
	if err != nil {
		return varUse{}, fmt.Errorf("${%s}: %v", body, err)
	}
	return varUse{name: name, values: values}, nil
}

// isRange reports whether a definition is a range "A..B [step S]"; its
// ends must then be numbers.
func isRange(def string) bool { return strings.Contains(def, "..") }

func listValues(def string) ([]string, error) {
	items := splitList(def)
	for i, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			return nil, fmt.Errorf("empty value in the list (item %d)", i+1)
		}
		if !strings.Contains(it, `"`) && isRange(it) {
			return nil, fmt.Errorf("ranges inside lists are not supported (%q): write ${x=A..B step S} or list every value", it)
		}
		items[i] = it
	}
	return items, nil
}

// splitList splits at commas outside double quotes.
func splitList(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// rangeValues expands "A..B" or "A..B step S" into values formatted like
// C's printf("%g"): 6 significant digits, exponent form outside 1e-4..1e6.
func rangeValues(def string) ([]string, error) {
	nums, err := rangeNumbers(def)
	if err != nil {
		return nil, err
	}
	values := make([]string, len(nums))
	for i, f := range nums {
		values[i] = formatG(f)
	}
	return values, nil
}

// rangeNumbers expands "A..B [step S]": from + i*step (not a running sum,
// which accumulates rounding errors) for as long as the end is not passed.
func rangeNumbers(def string) ([]float64, error) {
	a, rest, _ := strings.Cut(def, "..")
	b, s, hasStep := strings.Cut(rest, "step")
	from, err := parseNumber(a, "start")
	if err != nil {
		return nil, err
	}
	to, err := parseNumber(b, "end")
	if err != nil {
		return nil, err
	}
	step := 1.0
	if hasStep {
		if step, err = parseNumber(s, "step"); err != nil {
			return nil, err
		}
	}
	if step <= 0 {
		return nil, fmt.Errorf("step %s must be positive", formatG(step))
	}
	if from > to {
		return nil, fmt.Errorf("range %s..%s is empty (start is greater than end)", formatG(from), formatG(to))
	}
	// A small tolerance keeps an end point that floating-point steps
	// reach only approximately (0..1 step 0.1 has 11 values).
	steps := math.Floor((to-from)/step + 1e-9)
	if steps+1 > api.MaxRuns {
		return nil, fmt.Errorf("range has %.0f values, more than the limit of %d runs", steps+1, api.MaxRuns)
	}
	n := int(steps) + 1
	nums := make([]float64, n)
	for i := range n {
		nums[i] = from + float64(i)*step
	}
	return nums, nil
}

func parseNumber(s, what string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("range %s is missing", what)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("range %s %q is not a number", what, s)
	}
	return f, nil
}

// formatG formats like C's printf("%g").
func formatG(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }
