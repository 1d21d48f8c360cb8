package oppcli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/simswarm/simswarm/internal/textutil"
	"github.com/simswarm/simswarm/workers/procexec"
)

// shortWithValue are opp_run's one-letter options that take a value
// (OMNeT++ 6.1 ARGSPEC "h?f:u:l:c:r:n:x:i:p:q:e:avwsm"); -h takes one only
// when one follows.
const shortWithValue = "fulcrnxipqe"

// Invocation is an opp_run-style command line as the user typed it
// (`./aloha -f a.ini -c X -r 0..9`): simswarm passes it to the program
// untouched except for the run filter, which it sets per batch.
type Invocation struct {
	// Args is the program and all its arguments.
	Args []string
	// Config is -c (default General), Filter is -r, IniFiles are the ini
	// files in the order the program reads them: the -f values, then the
	// positional arguments (none: omnetpp.ini is read), ResultDir is
	// --result-dir: what the program itself will make of them.
	Config, Filter string
	IniFiles       []string
	ResultDir      string
	// filterAt are the indexes in Args of the -r option and its value.
	filterAt []int
	// parsed is Args[1:] as the program reads it, one element per option
	// or ini file, in order (ParseClusterInvocation splits on it).
	parsed []parsedArg
}

// parsedArg is one argument of a command line as OMNeT++ reads it: a short
// option (-c X or -cX), a long option (--name=value or --name value), an
// ini file, or the "--" that ends the options; at are its indexes in Args.
type parsedArg struct {
	short   byte   // the option letter; 0 when not a short option
	long    string // the long option's name
	ini     bool   // an ini file
	value   string // the option's value, or the ini file
	endOpts bool   // "--"
	at      []int
}

// ParseInvocation reads an opp_run command line the way OMNeT++ 6.1 parses
// its arguments (src/envir/args.cc): -X VALUE or -XVALUE for the options
// that take a value, --name=value or --name value for long options,
// anything else an ini file; the last -c, -r and --result-dir count
// (ArgList::optionValue takes the last value, as `opp_run -c A -c B -q
// runnumbers` shows).
func ParseInvocation(args []string) (Invocation, error) {
	if len(args) == 0 || args[0] == "" {
		return Invocation{}, fmt.Errorf("no simulation program given")
	}
	inv := Invocation{Args: slices.Clone(args), Config: "General"}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			inv.parsed = append(inv.parsed, parsedArg{endOpts: true, at: []int{i}})
			for j := i + 1; j < len(args); j++ {
				inv.parsed = append(inv.parsed, parsedArg{ini: true, value: args[j], at: []int{j}})
			}
			i = len(args)
		case strings.HasPrefix(a, "--"):
			at := []int{i}
			name, value, hasValue := strings.Cut(a[2:], "=")
			if !hasValue && i+1 < len(args) {
				i++
				at = append(at, i)
				value = args[i]
			}
			inv.parsed = append(inv.parsed, parsedArg{long: name, value: value, at: at})
		case len(a) >= 2 && a[0] == '-':
			c := a[1]
			at := []int{i}
			value := a[2:]
			if value == "" && (strings.ContainsRune(shortWithValue, rune(c)) || c == 'h') {
				if i+1 >= len(args) {
					if c != 'h' {
						return inv, fmt.Errorf("option %s needs a value", a)
					}
				} else {
					i++
					at = append(at, i)
					value = args[i]
				}
			}
			inv.parsed = append(inv.parsed, parsedArg{short: c, value: value, at: at})
		default:
			inv.parsed = append(inv.parsed, parsedArg{ini: true, value: a, at: []int{i}})
		}
	}
	var positional []string
	for _, p := range inv.parsed {
		switch {
		case p.ini:
			positional = append(positional, p.value)
		case p.long == "result-dir":
			// The program would take "" for its result directory, where
			// simswarm cannot look for what it writes.
			if p.value == "" {
				return inv, fmt.Errorf("option --result-dir needs a value")
			}
			inv.ResultDir = p.value
		case p.short == 'f':
			inv.IniFiles = append(inv.IniFiles, p.value)
		case p.short == 'c':
			inv.Config = p.value
		case p.short == 'r':
			inv.Filter = p.value
			inv.filterAt = append(inv.filterAt, p.at...)
		}
	}
	// OMNeT++ reads every -f file first, then the positional ones
	// (src/envir/startup.cc), and the first value of an option wins.
	inv.IniFiles = append(inv.IniFiles, positional...)
	return inv, nil
}

// withoutFilter is Args without its -r options.
func (inv Invocation) withoutFilter() []string {
	out := make([]string, 0, len(inv.Args))
	for i, a := range inv.Args {
		if !slices.Contains(inv.filterAt, i) {
			out = append(out, a)
		}
	}
	return out
}

// BatchArgs is the command line without the run filter plus what
// opp_runall adds to it (-s, -u Cmdenv, --cmdenv-redirect-output=true, each
// unless already given): the result files record the command-line options,
// so this must be opp_runall's command for them to come out the same.
// Append "-r RUNS" to run a batch.
func (inv Invocation) BatchArgs() []string {
	args := inv.withoutFilter()
	if !slices.Contains(args, "-s") {
		args = append(args, "-s")
	}
	if !slices.Contains(args, "-u") {
		args = append(args, "-u", "Cmdenv")
	}
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--cmdenv-redirect-output=") }) {
		args = append(args, "--cmdenv-redirect-output=true")
	}
	return args
}

// QueryRunNumbersOf asks the program which runs the invocation selects, as
// opp_runall does (ARGS -s -q runnumbers), in dir.
func QueryRunNumbersOf(ctx context.Context, inv Invocation, dir string, env []string) ([]int, error) {
	argv := append(slices.Clone(inv.Args), "-s", "-q", "runnumbers")
	var out bytes.Buffer
	res := procexec.Run(ctx, procexec.Cmd{Argv: argv, Dir: dir, Env: env, Timeout: queryTimeout, Stdout: &out})
	if !res.Success() {
		msg := strings.TrimSpace(res.StderrTail)
		if msg == "" {
			msg = strings.TrimSpace(textutil.LastLines(out.String(), 5))
		}
		return nil, fmt.Errorf("%s -q runnumbers: %s: %s", inv.Args[0], res.Describe(), msg)
	}
	runs, err := ParseRunNumbers(out.String())
	if err != nil {
		return nil, fmt.Errorf("%s -q runnumbers: %w", inv.Args[0], err)
	}
	return runs, nil
}

func inDir(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// resultRoot is ResultRoot with the run's result directory from runDir.
func resultRoot(ctx context.Context, inv Invocation, dir string, runDir func() (string, error)) (string, error) {
	var varying []string
	if inv.ResultDir != "" {
		if !strings.Contains(inv.ResultDir, "${") {
			return inv.ResultDir, nil
		}
		varying = []string{inv.ResultDir}
	} else {
		inis := inv.IniFiles
		if len(inis) == 0 {
			inis = []string{"omnetpp.ini"}
		}
		for _, v := range resultDirs(dir, inis) {
			if strings.Contains(v, "${") {
				varying = append(varying, v)
			}
		}
	}
	var root string
	if inv.ResultDir == "" {
		rd, err := runDir()
		if err != nil {
			return "", err
		}
		root = filepath.Clean(rd)
	}
	for _, v := range varying {
		fixed := filepath.Dir(filepath.Clean(v[:strings.Index(v, "${")] + "x"))
		switch {
		case root == "":
			root = fixed
		case filepath.IsAbs(root) != filepath.IsAbs(fixed):
			a, err := filepath.Abs(inDir(dir, root))
			if err != nil {
				return "", err
			}
			b, err := filepath.Abs(inDir(dir, fixed))
			if err != nil {
				return "", err
			}
			root = commonDir(a, b)
		default:
			root = commonDir(root, fixed)
		}
	}
	return root, nil
}

// commonDir is the deepest directory holding both a and b (clean paths,
// both relative or both absolute; "." or "/" at worst).
func commonDir(a, b string) string {
	for {
		if b == a || strings.HasPrefix(b, strings.TrimSuffix(a, string(filepath.Separator))+string(filepath.Separator)) {
			return a
		}
		if a == "." || a == string(filepath.Separator) {
			return a
		}
		a = filepath.Dir(a)
	}
}

// resultDirs are the values of result-dir that count in the ini files inis
// (relative to dir), read as OMNeT++ reads them (walkIni); the first value
// in a section is the one the program uses, so later ones in the same
// section are not values it can take.
func resultDirs(dir string, inis []string) []string {
	first := map[string]bool{} // sections whose value is known
	var out []string
	walkIni(dir, inis, func(_, section, line string) {
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "result-dir" {
			return
		}
		if section == "" {
			section = "General"
		}
		if first[section] {
			return
		}
		first[section] = true
		if i := strings.Index(value, "#"); i >= 0 {
			value = value[:i]
		}
		out = append(out, strings.Trim(strings.TrimSpace(value), `"`))
	})
	return out
}

// IniFiles are the ini files inis (relative to dir; omnetpp.ini when none)
// and those they include, as the program reads them: the files whose
// entries -q runconfig resolves. A file that cannot be read is left out.
func IniFiles(dir string, inis []string) []string {
	if len(inis) == 0 {
		inis = []string{"omnetpp.ini"}
	}
	var out []string
	walkIni(dir, inis, func(path, _, _ string) {
		if !slices.Contains(out, path) {
			out = append(out, path)
		}
	})
	return out
}

// walkIni calls visit with every trimmed line but includes and section
// headers of the ini files inis (relative to dir), read as OMNeT++ reads
// them (InifileReader): in the order given, each include in place and in
// the section it appears in, a file's lines before any section header in
// the section "" ([General]).
func walkIni(dir string, inis []string, visit func(path, section, line string)) {
	budget := 1000 // files read, includes too: a bound on include cycles
	var read func(path, section string, depth int)
	read = func(path, section string, depth int) {
		if budget--; budget < 0 || depth > 32 {
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if rest, ok := strings.CutPrefix(line, "include "); ok {
				read(inDir(filepath.Dir(path), strings.TrimSpace(rest)), section, depth+1)
				continue
			}
			if name, ok := strings.CutPrefix(line, "["); ok {
				if name, _, ok = strings.Cut(name, "]"); ok {
					section = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "Config "))
				}
				continue
			}
			visit(path, section, line)
		}
	}
	for _, ini := range inis {
		read(inDir(dir, ini), "", 0)
	}
}
