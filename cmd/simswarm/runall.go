package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
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
		chdir   string
		verbose bool
		cf      clientFlags // --server: run on a controller instead (runall_remote.go)
	)
	cmd := &cobra.Command{
		Use:   "runall [-j N] [-b N] [-C DIR] [-V] PROGRAM [ARGS...]",
		Short: "Run every run of a simulation config in parallel (a drop-in for opp_runall)",
		Long: `Runall does what OMNeT++'s opp_runall does, on this machine, with the same
arguments: options before PROGRAM are runall's, PROGRAM and everything after it
is the simulation command, passed on untouched but for the run filter. It asks
the program which runs the command selects and how each is configured (ARGS
-s -q rundetails, and ARGS -s -r 0 -q runconfig for what all runs share), then runs
them in batches of -b runs per process (default: opp_runall's size,
min(5, ceil(runs / jobs)), smaller towards the end of the sweep, as the runs'
durations so far say, so that the slots finish together; an explicit -b N is
exactly N, as opp_runall's) on -j parallel slots, each process as opp_runall
starts it: ARGS -s -u Cmdenv --cmdenv-redirect-output=true -r BATCH. The
program writes its result files (and one .out per run) where it always does,
its result-dir (default results/). There is no build step: PROGRAM must
already be built.

Unlike opp_runall it resumes: a run is skipped when a run of the same identity
completed and its result files (size, content digest) are intact; --force redoes them. A
run's identity is what determines its result: the program's (and -l
libraries') content, the NED files on the NED path, the arguments, the config,
the run's iteration variables and configuration as the program resolves
it (without repeat), and the data files it reads (a file a parameter's string
names, xmldoc("config.xml") or "trace.movements", or a NED file reads).
Growing repeat runs only the new repetitions (with
seed-set = ${repetition}; OMNeT++'s default seed-set, ${runnumber}, seeds a
run by its number, which moves); an edited ini entry reruns the runs that
see it; an edited .ned reruns everything. Each run is kept or reported on its
own: in a batch where one run fails, the runs that finished are kept, the
failed one is reported with the program's own "<!> Error" line, and the
runs after it run again in another process.

Exit status: 0 all runs succeeded, 1 some run failed (or the program cannot
list its runs), 2 invalid flags, 130 interrupted.

Examples:
  simswarm runall -j 8 ./aloha -c PureAlohaExperiment
  simswarm runall -j 4 -b 5 opp_run -l ../src/INET -n ../src -c Wifi -r 0..99
  simswarm runall -C samples/fifo ./fifo -f omnetpp.ini -c TandemQueueExperiment
  simswarm runall --force -- ./aloha -f other.ini -c SlottedAloha

With --server URL (and --token-file or SIMSWARM_TOKEN) the runs execute on a
simswarm controller's workers instead: the current directory is uploaded as
the source (built with make if it has a Makefile), submitted as a Campaign,
followed until it finishes, and its result files are pulled into --results.
  simswarm runall --server http://manager:8080 ./aloha -c PureAloha`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if batch < 0 {
				return invalidInput(fmt.Errorf("-b: %d is not a batch size (must be at least 1)", batch))
			}
			if retries < 0 {
				return invalidInput(fmt.Errorf("--retries: %d is not a number of retries (0 or more)", retries))
			}
			if err := lf.check(); err != nil {
				return err
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			if err := positiveDurations(cmd.Flags(), "timeout"); err != nil {
				return err
			}
			if cmd.Flags().Changed("server") {
				inv, err := oppcli.ParseClusterInvocation(args)
				if err != nil {
					return invalidInput(err)
				}
				// opp_runall users say where results go with --result-dir.
				if inv.ResultDir != "" && !cmd.Flags().Changed("results") {
					lf.results = inv.ResultDir
				}
				return runallRemote(cmd, &cf, inv, timeout, retries, lf.results)
			}
			inv, err := oppcli.ParseInvocation(args)
			if err != nil {
				return invalidInput(err)
			}
			dir := "."
			if chdir != "" {
				if st, err := os.Stat(chdir); err != nil || !st.IsDir() {
					return invalidInput(fmt.Errorf("-C %s: not a directory", chdir))
				}
				dir = chdir
			}
			if prog := args[0]; strings.ContainsRune(prog, '/') {
				if _, err := os.Stat(inDir(dir, prog)); err != nil {
					return invalidInput(fmt.Errorf("program %s: %w", prog, err))
				}
			}
			// --results is the program's --result-dir, unless it has one.
			if cmd.Flags().Changed("results") && inv.ResultDir == "" {
				inv.Args = append(inv.Args, "--result-dir="+lf.results)
				inv.ResultDir = lf.results
			}
			jobs := lf.jobs
			if jobs <= 0 {
				jobs = runtime.NumCPU()
			}
			chatter := func(format string, a ...any) {
				if verbose {
					fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			chatter("running: %s -s -q rundetails (in %s)", strings.Join(inv.Args, " "), dir)
			// The results directory is no NED directory (the walk of the
			// NED path leaves it out).
			guess := inv.ResultDir
			if guess == "" {
				guess = "results"
			}
			resolved, err := local.Resolve(ctx, inv, dir, nil, []string{inDir(dir, guess)})
			if err != nil {
				return err
			}
			runs := resolved.Runs
			chatter("run numbers: %v", runs)
			lf.results = inDir(dir, resolved.ResultRoot)
			plan := &local.Plan{
				Name:       "runall-" + inv.Config,
				Args:       inv.BatchArgs(),
				Dir:        dir,
				Config:     inv.Config,
				Identities: resolved.Identities,
				Inputs:     resolved.Inputs,
				Runs:       runs,
				BatchSize:  batch,
				Timeout:    timeout,
				Retries:    retries,
			}
			if verbose {
				b := batch
				if b == 0 {
					b = local.DefaultBatchSize(len(runs), jobs)
				}
				chatter("batch size: %d", b)
				sizes, sized := local.BatchSizes(len(runs), batch, jobs)
				more := ""
				if sized {
					more = ", then as the runs' durations say"
				}
				chatter("batches: %s%s", joinInts(sizes), more)
				chatter("simulation command: %s -r BATCH", strings.Join(plan.Args, " "))
				chatter("result directory: %s", lf.results)
			}
			ok, err := executeLocal(ctx, cmd, plan, lf, jobs, log)
			if err != nil {
				return err
			}
			if !ok {
				return &exitError{code: 1, err: errors.New("some runs failed")}
			}
			return nil
		},
	}
	// Everything from the program on is the program's (opp_runall's
	// habit): runall's own flags come before it.
	cmd.Flags().SetInterspersed(false)
	lf.register(cmd)
	cf.add(cmd)
	cmd.Flags().IntVarP(&batch, "batchsize", "b", 0, "runs per process (default min(5, ceil(runs / jobs)) as opp_runall, shrinking towards the end of the sweep)")
	cmd.Flags().StringVarP(&chdir, "directory", "C", "", "change to DIR before doing anything (as opp_runall -C)")
	// Not --verbose: that is simswarm's -v (log detail), which a flag of
	// the same name here would hide.
	cmd.Flags().BoolVarP(&verbose, "print-commands", "V", false, "print what runall does (the queries, batch size, the simulation command), as opp_runall -V")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "wall-time limit of one run")
	cmd.Flags().IntVar(&retries, "retries", 0, "times a failed run is tried again")
	return cmd
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

func inDir(dir, p string) string {
	if filepath.IsAbs(p) || dir == "." {
		return p
	}
	return filepath.Join(dir, p)
}
