package sweep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/api"
)

// Run is one point of a config's sweep.
type Run struct {
	Number     int
	Config     string
	IterVars   []IterVar // in loop order, outermost first; without repetition
	Repetition int
}

// IterVar is an iteration variable's value in a run.
type IterVar struct{ Name, Value string }

// String formats the run as opp_run's `-q runs` does:
// "Run 0: $numHosts=10, $iaMean=1, $repetition=0".
func (r Run) String() string {
	var b strings.Builder
	b.WriteString("Run ")
	b.WriteString(strconv.Itoa(r.Number))
	b.WriteString(": ")
	for _, v := range r.IterVars {
		b.WriteString("$" + v.Name + "=" + v.Value + ", ")
	}
	b.WriteString("$" + Repetition + "=" + strconv.Itoa(r.Repetition))
	return b.String()
}

// ResultBase is the base name of the run's result files (add ".sca",
// ".vec"): "<Config>-<n1>=<v1>,<n2>=<v2>-#<run>", or "<Config>-#<run>"
// without variables. Characters of values outside [A-Za-z0-9_.=,+-] become
// '_', so the name is safe as a file name.
func (r Run) ResultBase() string {
	var b strings.Builder
	b.WriteString(r.Config)
	b.WriteString("-")
	for i, v := range r.IterVars {
		if i > 0 {
			b.WriteString(",")
		}
		if v.Name != "" && isAlphaExt(v.Name[0]) {
			b.WriteString(v.Name + "=")
		} // an unnamed variable ($0, $1, ...) gives its value alone
		b.WriteString(sanitize(v.Value))
	}
	if len(r.IterVars) > 0 {
		b.WriteString("-")
	}
	b.WriteString("#" + strconv.Itoa(r.Number))
	return b.String()
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		case strings.ContainsRune("_.=,+-", r):
			return r
		}
		return '_'
	}, s)
}

// plan is a config's sweep: variables in loop order and the repeat count.
type plan struct {
	config string
	vars   []*iterVar // loop order, outermost first; without repetition
	repeat int
	count  int
	// positions holds, for a sweep whose variables depend on others, each
	// run's value index per variable (len(vars) per run): such a sweep
	// cannot be numbered by mixed-radix arithmetic.
	positions []int32
}

// iterVar is a variable of a config's sweep.
type iterVar struct {
	name   string
	use    *varUse
	values []string // when the definition has no deps
}

// Count is the number of runs of config.
func (ini *Ini) Count(config string) (int, error) {
	p, err := ini.plan(config)
	if err != nil {
		return 0, err
	}
	return p.count, nil
}

// Runs expands config into its runs, numbered as opp_run numbers them.
func (ini *Ini) Runs(config string) ([]Run, error) {
	sw, err := ini.Sweep(config)
	if err != nil {
		return nil, err
	}
	runs := make([]Run, sw.Count())
	for n := range runs {
		runs[n] = sw.run(n)
	}
	return runs, nil
}

// Sweep is a config's parameter sweep; it computes any run on demand, so a
// caller that needs a few runs of a large sweep does not expand them all.
type Sweep struct{ p *plan }

// Sweep returns config's sweep (the errors of Runs).
func (ini *Ini) Sweep(config string) (*Sweep, error) {
	p, err := ini.plan(config)
	if err != nil {
		return nil, err
	}
	return &Sweep{p: p}, nil
}

// Count is the number of runs.
func (s *Sweep) Count() int { return s.p.count }

// Vars names the iteration variables in loop order, outermost first
// (repetition, always innermost, not included).
func (s *Sweep) Vars() []string {
	out := make([]string, len(s.p.vars))
	for i, v := range s.p.vars {
		out[i] = v.name
	}
	return out
}

// Run returns run number n.
func (s *Sweep) Run(n int) (Run, error) {
	if n < 0 || n >= s.p.count {
		return Run{}, fmt.Errorf("run %d is out of range: config %s has %d runs (0..%d)", n, s.p.config, s.p.count, s.p.count-1)
	}
	return s.run(n), nil
}

func (s *Sweep) run(n int) Run {
	p := s.p
	rest := n
	rep := rest % p.repeat
	rest /= p.repeat
	iv := make([]IterVar, len(p.vars))
	if p.positions != nil {
		// The values of a dependent variable are computed again from its
		// outer variables' values, which plan did without error.
		pos := p.positions[rest*len(p.vars):]
		env := map[string]string{}
		for i, v := range p.vars {
			vals := v.values
			if vals == nil {
				vals, _ = itemValues(v.use.items, env)
			}
			iv[i] = IterVar{Name: v.name, Value: vals[pos[i]]}
			env[v.name] = iv[i].Value
		}
		return Run{Number: n, Config: p.config, IterVars: iv, Repetition: rep}
	}
	// Mixed-radix digits: the repetition is the least significant, the
	// first variable the most.
	for i := len(p.vars) - 1; i >= 0; i-- {
		k := len(p.vars[i].values)
		iv[i] = IterVar{Name: p.vars[i].name, Value: p.vars[i].values[rest%k]}
		rest /= k
	}
	return Run{Number: n, Config: p.config, IterVars: iv, Repetition: rep}
}

// chain is config's section followed by the sections it falls back to,
// General last.
func (ini *Ini) chain(config string) ([]*section, error) {
	s, ok := ini.byName[config]
	if !ok {
		if config == General {
			return nil, nil // -c General works without a [General] section
		}
		return nil, &Error{File: ini.name, Msg: fmt.Sprintf("no config %q (configs: %s)", config, strings.Join(ini.Configs(), ", "))}
	}
	return s.chain, nil // computed by checkExtends
}

// effective is the entry of key that config sees: the first of its chain.
func effective(chain []*section, key string) *entry {
	for _, s := range chain {
		if e, ok := s.byKey[key]; ok {
			return e
		}
	}
	return nil
}

// plan collects config's iteration variables as OMNeT++ does
// (sectionbasedconfig.cc collectIterationVariables): every ${...} of every
// entry of every section of the chain, overridden or not, in chain and line
// order; unnamed ones are named $0, $1, ... in that order. Then it orders
// them as scenario.cc does: a variable whose values refer to others comes
// after them.
func (ini *Ini) plan(config string) (*plan, error) {
	chain, err := ini.chain(config)
	if err != nil {
		return nil, err
	}
	errAt := func(line int, format string, args ...any) error {
		return &Error{File: ini.name, Line: line, Msg: fmt.Sprintf("config %s: ", config) + fmt.Sprintf(format, args...)}
	}
	refuse := func(line int, feature string) error {
		return &Error{File: ini.name, Line: line, Msg: fmt.Sprintf("config %s: ", config) + unsupportedMsg(feature, config), Unsupported: true}
	}
	if e := effective(chain, "constraint"); e != nil && e.value != "" {
		return nil, refuse(e.line, "constraint ("+e.value+")")
	}
	if e := effective(chain, "iteration-nesting-order"); e != nil && e.value != "" {
		return nil, refuse(e.line, "iteration-nesting-order")
	}
	p := &plan{config: config, repeat: 1}
	if e := effective(chain, "repeat"); e != nil {
		p.repeat, _ = parseRepeat(e.value) // checked when parsed
	}
	defined := map[string]int{} // name -> line
	type ref struct {
		name string
		line int
	}
	var refs []ref
	var vars []*iterVar
	unnamed := 0
	for _, s := range chain {
		for _, e := range s.entries {
			for i := range e.vars {
				v := &e.vars[i]
				if v.ref {
					refs = append(refs, ref{v.name, e.line})
					continue
				}
				if v.unsupported != "" {
					return nil, refuse(e.line, v.unsupported)
				}
				name := v.name
				if name == "" {
					name = strconv.Itoa(unnamed)
					unnamed++
				} else if first, dup := defined[name]; dup {
					return nil, errAt(e.line, "iteration variable $%s is defined twice (first at line %d)", name, first)
				}
				defined[name] = e.line
				vars = append(vars, &iterVar{name: name, use: v, values: v.values})
			}
		}
	}
	for _, r := range refs {
		if _, ok := defined[r.name]; !ok && !predefined[r.name] {
			return nil, errAt(r.line, "${%s} refers to an iteration variable that this config does not define", r.name)
		}
	}
	for _, v := range vars {
		for _, d := range v.use.deps {
			if _, ok := defined[d]; !ok {
				return nil, errAt(defined[v.name], "${%s} refers to $%s, which this config does not define", v.use.body, d)
			}
		}
	}
	// scenario.cc: take the first variable that refers to none of the
	// variables not yet taken, until none is left.
	left := vars
	dependent := false
	for len(left) > 0 {
		pick := -1
		for i, v := range left {
			ok := true
			for _, d := range v.use.deps {
				for _, l := range left {
					ok = ok && l.name != d
				}
			}
			if ok {
				pick = i
				break
			}
		}
		if pick < 0 {
			return nil, errAt(defined[left[0].name], "iteration variables refer to each other in a cycle")
		}
		dependent = dependent || len(left[pick].use.deps) > 0
		p.vars = append(p.vars, left[pick])
		left = append(left[:pick:pick], left[pick+1:]...)
	}
	if dependent {
		return p, p.enumerate(errAt)
	}
	total := float64(p.repeat)
	for _, v := range p.vars {
		total *= float64(len(v.values))
	}
	if total > api.MaxRuns {
		return nil, errAt(0, "the sweep has %.0f runs, more than the limit of %d", total, api.MaxRuns)
	}
	p.count = int(total)
	return p, nil
}

// enumerate walks the nested loops of a sweep with dependent variables and
// records each run's value positions; combinations where an inner variable
// has no values are skipped, as OMNeT++'s Scenario skips them.
func (p *plan) enumerate(errAt func(int, string, ...any) error) error {
	n := len(p.vars)
	pos := make([]int32, n)
	env := map[string]string{}
	var walk func(i int) error
	walk = func(i int) error {
		if i == n {
			if (len(p.positions)/max(n, 1)+1)*p.repeat > api.MaxRuns {
				return errAt(0, "the sweep has more than the limit of %d runs", api.MaxRuns)
			}
			p.positions = append(p.positions, pos...)
			return nil
		}
		v := p.vars[i]
		vals := v.values
		if vals == nil {
			var err error
			if vals, err = itemValues(v.use.items, env); err != nil {
				return errAt(0, "${%s}: %v", v.use.body, err)
			}
		}
		for k, val := range vals {
			pos[i] = int32(k)
			env[v.name] = val
			if err := walk(i + 1); err != nil {
				return err
			}
		}
		delete(env, v.name)
		return nil
	}
	if err := walk(0); err != nil {
		return err
	}
	if n == 0 {
		p.positions = nil
		p.count = p.repeat
		return nil
	}
	p.count = len(p.positions) / n * p.repeat
	if p.count == 0 {
		return errAt(0, "the sweep has no runs: an inner range is empty for every value of the outer ones")
	}
	return nil
}
