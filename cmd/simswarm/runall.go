package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/workers/local"
	"github.com/simswarm/simswarm/workers/oppcli"
)

func newRunallCmd(g *globals) *cobra.Command {
	var (
		lf      localFlags
		batch   int
		timeout time.Duration
		retries int
		cf      clientFlags // --server: run on a controller instead (runall_remote.go)
	)
	cmd := &cobra.Command{
		Use:   "runall [-j N] [-b N] -- PROGRAM [ARGS...]",
		Short: "Run every run of a simulation config in parallel (a drop-in for opp_runall)",
		Long: `Runall does what OMNeT++'s opp_runall does, on this machine: it asks the
program which runs the config has (-q runnumbers, honouring -c, -r and -f in
ARGS), then executes each run as its own process (or batches of -b runs per
process) on -j parallel slots, and collects the result files into --results.
There is no build step: PROGRAM must already be built.

Like "simswarm run", it resumes: runs whose completion record and result
files (sha256) are intact are skipped; --force redoes them.

Examples:
  simswarm runall -j 8 -- ./aloha -c PureAloha
  simswarm runall -j 4 -b 5 -- opp_run -l ../src/INET -n ../src -c Wifi -r 0..99
  simswarm runall -- ./aloha -f other.ini -c SlottedAloha --force

With --server URL (and --token-file or SIMSWARM_TOKEN) the runs execute on a
simswarm controller's workers instead: the current directory is uploaded as
the source (built with make if it has a Makefile), submitted as a Campaign,
followed until it finishes, and its result files are pulled into --results.
  simswarm runall --server http://manager:8080 -- ./aloha -c PureAloha`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 0 {
				return invalidInput(errors.New("put the simulation command after --, e.g. simswarm runall -j 4 -- ./aloha -c PureAloha"))
			}
			if batch < 1 {
				return invalidInput(fmt.Errorf("-b: %d is not a batch size (must be at least 1)", batch))
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			if err := positiveDurations(cmd.Flags(), "timeout"); err != nil {
				return err
			}
			inv, err := parseOppArgs(args)
			if err != nil {
				return invalidInput(err)
			}
			// opp_runall users say where results go with --result-dir.
			if inv.resultDir != "" && !cmd.Flags().Changed("results") {
				lf.results = inv.resultDir
			}
			if cmd.Flags().Changed("server") {
				return runallRemote(cmd, &cf, inv, timeout, retries, lf.results)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			runs, err := oppcli.QueryRunNumbers(ctx, inv.program, ".", inv.ini, inv.config, inv.filter, nil)
			if err != nil {
				return err
			}
			plan := &local.Plan{
				Name:      "runall-" + inv.config,
				Program:   inv.program,
				Dir:       ".",
				IniFile:   inv.ini,
				Config:    inv.config,
				Runs:      runs,
				BatchSize: batch,
				Timeout:   timeout,
				Retries:   retries,
				Results:   []string{"results/*"},
			}
			ok, err := executeLocal(ctx, cmd, plan, lf, lf.jobs, log)
			if err != nil {
				return err
			}
			if !ok {
				return &exitError{code: 1, err: errors.New("some runs failed")}
			}
			return nil
		},
	}
	lf.register(cmd)
	cf.add(cmd)
	cmd.Flags().IntVarP(&batch, "batch", "b", 1, "runs per process (opp_runall -b)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "wall-time limit of one run")
	cmd.Flags().IntVar(&retries, "retries", 0, "times a failed run is tried again")
	return cmd
}

// oppInvocation is an opp_run-style command line split into the program
// (with the options simswarm passes through) and the options simswarm sets
// itself per run.
type oppInvocation struct {
	program             []string
	ini, config, filter string
	// resultDir is the --result-dir the command line asked for, if any.
	resultDir string
}

// parseOppArgs takes -f/-c/-r (and drops -u, -q, --result-dir, which
// runall sets itself) out of an opp_run command line.
func parseOppArgs(args []string) (oppInvocation, error) {
	inv := oppInvocation{program: []string{args[0]}, ini: "omnetpp.ini", config: "General"}
	if strings.ContainsRune(args[0], '/') {
		if _, err := os.Stat(args[0]); err != nil {
			return inv, fmt.Errorf("program %s: %w", args[0], err)
		}
	}
	value := func(i int, flag string) (string, error) {
		if i+1 >= len(args) {
			return "", fmt.Errorf("%s needs a value", flag)
		}
		return args[i+1], nil
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		var err error
		switch {
		case a == "-f":
			inv.ini, err = value(i, a)
			i++
		case a == "-c":
			inv.config, err = value(i, a)
			i++
		case a == "-r":
			inv.filter, err = value(i, a)
			i++
		case a == "-u", a == "-q":
			_, err = value(i, a)
			i++
		case strings.HasPrefix(a, "--result-dir="):
			inv.resultDir = strings.TrimPrefix(a, "--result-dir=")
		case a == "--result-dir":
			inv.resultDir, err = value(i, a)
			i++
		case a == "-s":
		default:
			inv.program = append(inv.program, a)
		}
		if err != nil {
			return inv, err
		}
	}
	return inv, nil
}
