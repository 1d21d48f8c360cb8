package oppcli

import (
	"bytes"
	"context"
	"fmt"
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
// in dir and returns the runs it lists, in its order.
func QueryRuns(ctx context.Context, program []string, dir, ini, config, filter string, env []string) ([]RunInfo, error) {
	var out bytes.Buffer
	res := procexec.Run(ctx, procexec.Cmd{Argv: QueryRunsArgv(program, ini, config, filter), Dir: dir, Env: env, Timeout: queryTimeout, Stdout: &out})
	if !res.Success() {
		msg := strings.TrimSpace(res.StderrTail)
		if msg == "" {
			msg = strings.TrimSpace(textutil.LastLines(out.String(), 5))
		}
		return nil, fmt.Errorf("%s -q runs: %s: %s", program[0], res.Describe(), msg)
	}
	runs, err := ParseRuns(out.String())
	if err != nil {
		return nil, fmt.Errorf("%s -q runs: %w", program[0], err)
	}
	return runs, nil
}

// ParseRuns reads the output of `-q runs`, with the banner (which says
// "Number of runs: N", or "Number of runs selected: N" under -r, and is
// checked against the lines) or without (-s): every "Run N: ..." line.
func ParseRuns(out string) ([]RunInfo, error) {
	var runs []RunInfo
	declared := -1
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "Number of runs selected:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
				declared = n
			}
			continue
		}
		if rest, ok := strings.CutPrefix(l, "Number of runs:"); ok && declared < 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
				declared = n
			}
			continue
		}
		rest, ok := strings.CutPrefix(l, "Run ")
		if !ok {
			continue
		}
		num, vars, ok := strings.Cut(rest, ":")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			continue // not a run line ("Run numbers: ..." and the like)
		}
		runs = append(runs, RunInfo{Number: n, Vars: strings.TrimSpace(vars)})
	}
	if declared >= 0 && declared != len(runs) {
		return nil, fmt.Errorf("the program says %d runs but lists %d", declared, len(runs))
	}
	if len(runs) == 0 && declared != 0 {
		return nil, fmt.Errorf("no runs in output %q", textutil.LastLines(out, 3))
	}
	for i := 1; i < len(runs); i++ {
		if runs[i].Number <= runs[i-1].Number {
			return nil, fmt.Errorf("run %d listed after run %d", runs[i].Number, runs[i-1].Number)
		}
	}
	return runs, nil
}
