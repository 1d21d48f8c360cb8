package oppcli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/internal/textutil"
	"github.com/simswarm/simswarm/workers/procexec"
)

// queryTimeout bounds `-q runnumbers`: it only reads the ini.
const queryTimeout = 2 * time.Minute

// QueryArgv is the argv that asks program for the run numbers of config
// (restricted by filter when non-empty).
func QueryArgv(program []string, ini, config, filter string) []string {
	argv := append(slices.Clone(program), "-u", "Cmdenv", "-f", ini, "-c", config)
	if filter != "" {
		argv = append(argv, "-r", filter)
	}
	return append(argv, "-q", "runnumbers", "-s")
}

// QueryRunNumbers runs `program -u Cmdenv -f ini -c config [-r filter] -q
// runnumbers -s` in dir and returns the run numbers it prints.
func QueryRunNumbers(ctx context.Context, program []string, dir, ini, config, filter string, env []string) ([]int, error) {
	var out bytes.Buffer
	res := procexec.Run(ctx, procexec.Cmd{Argv: QueryArgv(program, ini, config, filter), Dir: dir, Env: env, Timeout: queryTimeout, Stdout: &out})
	if !res.Success() {
		msg := strings.TrimSpace(res.StderrTail)
		if msg == "" {
			msg = strings.TrimSpace(textutil.LastLines(out.String(), 5))
		}
		return nil, fmt.Errorf("%s -q runnumbers: %s: %s", program[0], res.Describe(), msg)
	}
	runs, err := ParseRunNumbers(out.String())
	if err != nil {
		return nil, fmt.Errorf("%s -q runnumbers: %w", program[0], err)
	}
	return runs, nil
}

// ParseRunNumbers reads the output of `-q runnumbers`, with or without -s.
func ParseRunNumbers(out string) ([]int, error) {
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	// Banner form: the line that says so wins over anything else.
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "Run numbers:"); ok {
			return parseNumbers(rest)
		}
	}
	// Silent form: the last non-empty line made only of numbers.
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if nums, err := parseNumbers(l); err == nil {
			return nums, nil
		}
		break
	}
	if strings.Contains(out, "Number of runs: 0") {
		return []int{}, nil
	}
	return nil, fmt.Errorf("no run numbers in output %q", textutil.LastLines(out, 3))
}

func parseNumbers(s string) ([]int, error) {
	fields := strings.Fields(s)
	nums := make([]int, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a run number", f)
		}
		nums = append(nums, n)
	}
	return nums, nil
}

// RunArgv is the argv that executes runs of sim as one opp_runall batch:
// the campaign's command line (program, -f INI, -c CONFIG) with what
// opp_runall adds (BatchArgs) and -r RUNS, the command the local executor
// starts too, so that the program writes the same files with the same
// metadata (no result directory of simswarm's: the program's own is used).
func RunArgv(sim api.SimulationSpec, runs []int) []string {
	args := append(slices.Clone(sim.Program), "-f", sim.IniFile, "-c", sim.Config)
	inv, err := ParseInvocation(args)
	if err != nil {
		inv = Invocation{Args: args} // no program: the start fails and says so
	}
	return append(inv.BatchArgs(), "-r", JoinRuns(runs))
}

// JoinRuns writes run numbers as an opp_run -r filter ("3" or "3,4,9").
func JoinRuns(runs []int) string {
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = strconv.Itoa(r)
	}
	return strings.Join(parts, ",")
}

// RunInfo is one line of `-q runs`: a run number and its iteration
// variables as the program prints them ("$numHosts=10, $repetition=0").
type RunInfo struct {
	Number int
	Vars   string
}

// QueryRunsArgv is the argv that asks program to list the runs of config
// (restricted by filter when non-empty) with their iteration variables.
func QueryRunsArgv(program []string, ini, config, filter string) []string {
	argv := append(slices.Clone(program), "-u", "Cmdenv", "-f", ini, "-c", config)
	if filter != "" {
		argv = append(argv, "-r", filter)
	}
	return append(argv, "-q", "runs")
}

// QueryRuns runs `program -u Cmdenv -f ini -c config [-r filter] -q runs`
// in dir and returns the runs it lists, in its order. The list is read as
// the program writes it (a million runs are tens of MB of output, which
// is neither held whole nor parsed only once the program is done).
func QueryRuns(ctx context.Context, program []string, dir, ini, config, filter string, env []string) ([]RunInfo, error) {
	var l runList
	if _, err := QueryRunsEach(ctx, program, dir, ini, config, filter, env, l.add); err != nil {
		return nil, err
	}
	return l.all(), nil
}

// QueryRunsEach is QueryRuns passing each run to each as it is read
// (after the checks a single line allows: a run number, listed after the
// one before), and returning how many. Only a nil error says the list
// is whole: the runs passed before an error are part of a list the
// program did not give, or gave wrong.
func QueryRunsEach(ctx context.Context, program []string, dir, ini, config, filter string, env []string, each func(RunInfo)) (int, error) {
	pr, pw := io.Pipe()
	tail := &lastBytes{max: 4 << 10} // what the program said last, for a refusal without stderr
	type parsed struct {
		n   int
		err error
	}
	done := make(chan parsed, 1)
	go func() {
		n, err := readRunList(io.TeeReader(pr, tail), each)
		// Drain what is left after a parse error: a program blocked on a
		// full pipe would never exit.
		io.Copy(io.Discard, pr)
		done <- parsed{n, err}
	}()
	res := procexec.Run(ctx, procexec.Cmd{Argv: QueryRunsArgv(program, ini, config, filter), Dir: dir, Env: env, Timeout: queryTimeout, Stdout: pw})
	pw.Close()
	p := <-done
	if !res.Success() {
		msg := strings.TrimSpace(res.StderrTail)
		if msg == "" {
			msg = strings.TrimSpace(textutil.LastLines(tail.String(), 5))
		}
		return 0, fmt.Errorf("%s -q runs: %s: %s", program[0], res.Describe(), msg)
	}
	if p.err != nil {
		return 0, fmt.Errorf("%s -q runs: %w", program[0], p.err)
	}
	return p.n, nil
}

// ParseRuns reads the output of `-q runs`, with the banner (which says
// "Number of runs: N", or "Number of runs selected: N" under -r, and is
// checked against the lines) or without (-s): every "Run N: ..." line.
func ParseRuns(out string) ([]RunInfo, error) {
	return ReadRunList(strings.NewReader(out))
}

// lastBytes keeps the last max bytes written to it.
type lastBytes struct {
	max int
	b   []byte
}

func (l *lastBytes) Write(p []byte) (int, error) {
	if len(p) >= l.max {
		l.b = append(l.b[:0], p[len(p)-l.max:]...)
		return len(p), nil
	}
	if drop := len(l.b) + len(p) - l.max; drop > 0 {
		l.b = append(l.b[:0], l.b[drop:]...)
	}
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lastBytes) String() string { return string(l.b) }

// maxRunLine bounds one line of `-q runs` (a run's iteration variables).
const maxRunLine = 16 << 20

// ReadRunList is ParseRuns reading the output from r, line by line.
func ReadRunList(r io.Reader) ([]RunInfo, error) {
	var l runList
	if _, err := readRunList(r, l.add); err != nil {
		return nil, err
	}
	return l.all(), nil
}

// readRunList reads the output of -q runs from r, passing each run to each.
func readRunList(r io.Reader, each func(RunInfo)) (int, error) {
	n, last := 0, -1
	declared := -1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxRunLine)
	var lastLine []byte // for an error
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) > 0 {
			lastLine = append(lastLine[:0], b...)
		}
		if rest, ok := bytes.CutPrefix(b, []byte("Number of runs selected:")); ok {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(rest))); err == nil {
				declared = n
			}
			continue
		}
		if rest, ok := bytes.CutPrefix(b, []byte("Number of runs:")); ok && declared < 0 {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(rest))); err == nil {
				declared = n
			}
			continue
		}
		rest, ok := bytes.CutPrefix(b, []byte("Run "))
		if !ok {
			continue
		}
		num, vars, ok := bytes.Cut(rest, []byte(":"))
		k, ok2 := atoi(num)
		if !ok || !ok2 {
			continue // not a run line ("Run numbers: ..." and the like)
		}
		if n > 0 && k <= last {
			return n, fmt.Errorf("run %d listed after run %d", k, last)
		}
		each(RunInfo{Number: k, Vars: string(bytes.TrimSpace(vars))})
		n, last = n+1, k
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("read the runs: %w", err)
	}
	if declared >= 0 && declared != n {
		return n, fmt.Errorf("the program says %d runs but lists %d", declared, n)
	}
	if n == 0 && declared != 0 {
		return n, fmt.Errorf("no runs in output %q", string(lastLine))
	}
	return n, nil
}

// runList gathers runs in blocks and copies them once into a slice of
// the final length: appending a million runs to one slice would copy
// and allocate them about five times over as it grows.
type runList struct {
	blocks [][]RunInfo
	n      int
}

const runBlock = 1 << 14

func (l *runList) add(r RunInfo) {
	k := len(l.blocks)
	if k == 0 || len(l.blocks[k-1]) == cap(l.blocks[k-1]) {
		size := runBlock // small lists stay small
		if k < 8 {
			size = runBlock >> (8 - k)
		}
		l.blocks = append(l.blocks, make([]RunInfo, 0, size))
		k++
	}
	l.blocks[k-1] = append(l.blocks[k-1], r)
	l.n++
}

func (l *runList) all() []RunInfo {
	if len(l.blocks) == 1 {
		return l.blocks[0]
	}
	out := make([]RunInfo, 0, l.n)
	for _, b := range l.blocks {
		out = append(out, b...)
	}
	return out
}

// atoi parses a run number: decimal digits only, as strconv.Atoi without
// a sign and without allocating.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
