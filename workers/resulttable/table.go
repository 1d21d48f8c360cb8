package resulttable

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/workers/resultindex"
)

// Table is a table of results by iteration variables.
type Table struct {
	// Vars are the iteration variables' names, in the order the first run
	// that had each listed them (the repetition is not one: rows
	// aggregate over it).
	Vars []string `json:"vars"`
	Rows []Row    `json:"rows"`
	// Runs counts the runs read; Problems names those that could not be
	// (at most MaxProblems; ProblemCount counts them all).
	Runs         int      `json:"runs"`
	Problems     []string `json:"problems,omitempty"`
	ProblemCount int      `json:"problemCount,omitempty"`
}

// Row is one value's summary over the repetitions of one point.
type Row struct {
	Vars   []string `json:"vars"` // values of Table.Vars ("" where a run had none)
	Module string   `json:"module"`
	Name   string   `json:"name"`
	N      int      `json:"n"`
	Mean   Number   `json:"mean"`
	StdDev Number   `json:"stddev"`
	CI95   Number   `json:"ci95"` // half-width of the 95% confidence interval of the mean
}

// Number is a float64 that JSON writes as null when it is not finite.
type Number float64

// MarshalJSON writes n, or null for NaN and ±inf (JSON has none).
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = Number(f)
	return err
}

// MaxProblems bounds Table.Problems.
const MaxProblems = 20

type groupKey struct {
	point        string // the run's variables, canonical
	module, name string
}

type group struct {
	vars   map[string]string
	values []float64
}

// Builder collects runs into a table.
type Builder struct {
	filter   *Filter
	vars     []string
	groups   map[groupKey]*group
	points   map[string]map[string]string
	runs     int
	problems []string
	nprob    int
}

// NewBuilder starts a table of the values f selects (nil: all).
func NewBuilder(f *Filter) *Builder {
	if f == nil {
		f, _ = NewFilter(nil)
	}
	return &Builder{filter: f, groups: map[groupKey]*group{}, points: map[string]map[string]string{}}
}

// Problem records a run that could not be read. The table keeps the
// MaxProblems first in natural order (numbers by value: "run 97" before
// "run 100"), not the first added, so that it does not depend on the
// order the runs are read in (a compaction changes it).
func (b *Builder) Problem(msg string) {
	b.nprob++
	i, _ := slices.BinarySearchFunc(b.problems, msg, naturalCompare)
	if i >= MaxProblems {
		return
	}
	b.problems = slices.Insert(b.problems, i, msg)
	if len(b.problems) > MaxProblems {
		b.problems = b.problems[:MaxProblems]
	}
}

// naturalCompare orders text with runs of digits compared by value.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

// digits is the length of s's leading run of ASCII digits.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// AddRun adds one run's values.
func (b *Builder) AddRun(itervars []resultindex.KV, values []resultindex.Value) {
	b.runs++
	var key strings.Builder
	sorted := slices.Clone(itervars)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, kv := range sorted {
		if kv.Name == "repetition" {
			continue
		}
		key.WriteString(kv.Name)
		key.WriteByte(0)
		key.WriteString(kv.Value)
		key.WriteByte(0)
	}
	for _, kv := range itervars { // column order: as the runs list them
		if kv.Name != "repetition" && !slices.Contains(b.vars, kv.Name) {
			b.vars = append(b.vars, kv.Name)
		}
	}
	point := key.String()
	vars, ok := b.points[point]
	if !ok {
		vars = make(map[string]string, len(itervars))
		for _, kv := range itervars {
			vars[kv.Name] = kv.Value
		}
		b.points[point] = vars
	}
	for _, v := range values {
		if !b.filter.Match(v.Module, v.Name) {
			continue
		}
		k := groupKey{point, v.Module, v.Name}
		g := b.groups[k]
		if g == nil {
			g = &group{vars: vars}
			b.groups[k] = g
		}
		g.values = append(g.values, v.Value)
	}
}

// Table computes the table of what was added.
func (b *Builder) Table() *Table {
	t := &Table{Vars: slices.Clone(b.vars), Rows: make([]Row, 0, len(b.groups)), Runs: b.runs,
		Problems: b.problems, ProblemCount: b.nprob}
	if t.Vars == nil {
		t.Vars = []string{}
	}
	tq := map[int]float64{} // t quantiles by degrees of freedom
	for k, g := range b.groups {
		mean, sd, ci := summarize(g.values, tq)
		r := Row{Vars: make([]string, len(t.Vars)), Module: k.module, Name: k.name, N: len(g.values),
			Mean: Number(mean), StdDev: Number(sd), CI95: Number(ci)}
		for i, name := range t.Vars {
			r.Vars[i] = g.vars[name]
		}
		t.Rows = append(t.Rows, r)
	}
	sort.Slice(t.Rows, func(i, j int) bool { return rowLess(&t.Rows[i], &t.Rows[j]) })
	return t
}

func rowLess(a, b *Row) bool {
	if a.Module != b.Module {
		return a.Module < b.Module
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	for i := range a.Vars {
		if c := compareValues(a.Vars[i], b.Vars[i]); c != 0 {
			return c < 0
		}
	}
	return false
}

// compareValues orders numbers (with a unit, as in "1.5s") by value, and
// before other text, which is ordered as text.
func compareValues(a, b string) int {
	fa, oka := leadingNumber(a)
	fb, okb := leadingNumber(b)
	switch {
	case oka && okb && fa != fb:
		if fa < fb {
			return -1
		}
		return 1
	case oka != okb:
		if oka {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func leadingNumber(s string) (float64, bool) {
	end := len(s)
	for end > 0 {
		if f, err := strconv.ParseFloat(s[:end], 64); err == nil {
			return f, true
		}
		end--
	}
	return 0, false
}

func sortFloats(vs []float64) { slices.Sort(vs) }
