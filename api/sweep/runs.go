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
		b.WriteString(v.Name + "=" + sanitize(v.Value))
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
	vars   []varUse // definitions only
	repeat int
	count  int
}

// Count is the number of runs of config, computed without expanding them.
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
	// Mixed-radix digits of n: the repetition is the least significant,
	// the first variable the most.
	rest := n
	rep := rest % p.repeat
	rest /= p.repeat
	iv := make([]IterVar, len(p.vars))
	for i := len(p.vars) - 1; i >= 0; i-- {
		k := len(p.vars[i].values)
		iv[i] = IterVar{Name: p.vars[i].name, Value: p.vars[i].values[rest%k]}
		rest /= k
	}
	return Run{Number: n, Config: p.config, IterVars: iv, Repetition: rep}
}

// chain is config's section followed by its ancestors up to General.
func (ini *Ini) chain(config string) ([]*section, error) {
	s, ok := ini.byName[config]
	if !ok {
		if config == General {
			return nil, nil // -c General works without a [General] section
		}
		return nil, &Error{File: ini.name, Msg: fmt.Sprintf("no config %q (configs: %s)", config, strings.Join(ini.Configs(), ", "))}
	}
	var out []*section
	for c := s; c != nil; c = ini.parent(c) {
		out = append(out, c) // checkExtends ruled out cycles
	}
	return out, nil
}

func (ini *Ini) plan(config string) (*plan, error) {
	chain, err := ini.chain(config)
	if err != nil {
		return nil, err
	}
	errAt := func(line int, format string, args ...any) error {
		return &Error{File: ini.name, Line: line, Msg: fmt.Sprintf("config %s: ", config) + fmt.Sprintf(format, args...)}
	}
	// The effective entry of each key is the one nearest to config.
	owner := map[string]*section{}
	for _, s := range chain {
		for _, e := range s.entries {
			if _, ok := owner[e.key]; !ok {
				owner[e.key] = s
			}
		}
	}
	p := &plan{config: config, repeat: 1}
	defined := map[string]int{} // name -> line
	type ref struct {
		name string
		line int
	}
	var refs []ref
	for _, s := range chain {
		for _, e := range s.entries {
			if owner[e.key] != s {
				continue // overridden by a child
			}
			if e.key == "repeat" {
				p.repeat, _ = parseRepeat(e.value) // checked when parsed
			}
			for _, v := range e.vars {
				if v.ref {
					refs = append(refs, ref{v.name, e.line})
					continue
				}
				if first, dup := defined[v.name]; dup {
					return nil, errAt(e.line, "iteration variable $%s is defined twice (first at line %d)", v.name, first)
				}
				defined[v.name] = e.line
				p.vars = append(p.vars, v)
			}
		}
	}
	for _, r := range refs {
		if _, ok := defined[r.name]; !ok && r.name != Repetition {
			return nil, errAt(r.line, "${%s} refers to an iteration variable that this config does not define", r.name)
		}
	}
	count, total := p.repeat, float64(p.repeat)
	for _, v := range p.vars {
		total *= float64(len(v.values))
	}
	if total > api.MaxRuns {
		return nil, errAt(0, "the sweep has %.0f runs, more than the limit of %d", total, api.MaxRuns)
	}
	for _, v := range p.vars {
		count *= len(v.values)
	}
	p.count = count
	return p, nil
}
