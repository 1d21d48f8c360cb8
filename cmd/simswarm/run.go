package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/workers/local"
)

// localFlags are the options `run` and `runall` share.
type localFlags struct {
	results string
	jobs    int
	force   bool
}

func (f *localFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.results, "results", "results", "directory that receives the result files")
	cmd.Flags().IntVarP(&f.jobs, "jobs", "j", 0, "runs executed in parallel (default: spec.parallelism, else the number of CPUs)")
	cmd.Flags().BoolVar(&f.force, "force", false, "redo runs that are already complete")
}

// check refuses values no run can use.
func (f *localFlags) check() error {
	if f.jobs < 0 {
		return invalidInput(fmt.Errorf("-j: %d is not a number of parallel runs (at least 1; 0 or none for the default)", f.jobs))
	}
	return nil
}

func newRunCmd(g *globals) *cobra.Command {
	var (
		file      string
		workdir   string
		keepGoing bool
		lf        localFlags
	)
	cmd := &cobra.Command{
		Use:   "run -f CAMPAIGN.yaml",
		Short: "Build and run a campaign on this machine, on all cores",
		Long: `Run executes a Campaign manifest on this machine alone, with no cluster:

  1. copies the source (spec.source.path, relative to the manifest) or clones
     it (spec.source.git) into the work directory,
  2. builds it once with spec.build.command (make gets MAKEFLAGS=-jN),
  3. asks the program for its runs (-q runnumbers, restricted by
     spec.simulation.runs),
  4. runs them on N parallel slots, each with spec.timeout and spec.retries,
  5. moves each run's result files into --results under the names the
     simulation gave them.

Running it again resumes: a run is skipped only if a run of the same identity
(see runall's help: what determines its result) completed and every result
file still has the recorded size and content digest; deleted or damaged
results are redone. --force redoes everything. Ctrl-C stops cleanly:
running simulations are killed and no partial result is kept.

A file with several campaigns runs them one after another; the first one that
cannot be built or has a failed run stops the rest, unless --keep-going.

Exit status: 0 all runs succeeded, 1 some run failed, 2 invalid manifest or
flags, 130 interrupted.

Examples:
  simswarm run -f examples/aloha/campaign.yaml
  simswarm run -f campaign.yaml -j 4 --results out/
  simswarm run -f campaign.yaml --force
  simswarm run -f campaigns.yaml --keep-going --workdir /scratch/simswarm`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lf.check(); err != nil {
				return err
			}
			if file == "" {
				return invalidInput(errors.New("no manifest given: use -f CAMPAIGN.yaml"))
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			campaigns, err := api.LoadFile(file)
			if err != nil {
				return invalidInput(err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			manifestDir := filepath.Dir(file)
			failed := false
			for i, c := range campaigns {
				if failed && !keepGoing {
					fmt.Fprintf(cmd.ErrOrStderr(), "campaigns not started after a failure (use --keep-going): %s\n", campaignNames(campaigns[i:]))
					break
				}
				wd := workdir
				if wd == "" {
					// Next to the results, so one project keeps its state together.
					wd = filepath.Join(filepath.Dir(filepath.Clean(lf.results)), ".simswarm", "work", c.Metadata.Name)
				} else if len(campaigns) > 1 {
					wd = filepath.Join(wd, c.Metadata.Name)
				}
				jobs := lf.jobs
				if jobs == 0 {
					jobs = int(c.Spec.Parallelism)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "campaign %s\n", c.Metadata.Name)
				if c.Spec.Stop != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "campaign %s: spec.stop is the controller's: simswarm run runs every repetition (apply the campaign to a controller to stop early)\n", c.Metadata.Name)
				}
				// Held from copying the source to the sweep's end: a second
				// run of the campaign must not rebuild the program under
				// this one's simulations.
				unlock, err := local.LockDir(ctx, wd, cmd.ErrOrStderr())
				if err != nil {
					if ctx.Err() != nil {
						return &exitError{code: 130, err: errors.New("interrupted")}
					}
					return fmt.Errorf("campaign %s: work directory: %w", c.Metadata.Name, err)
				}
				plan, err := local.Prepare(ctx, c, manifestDir, local.PrepareOptions{
					WorkDir: wd, Skip: []string{lf.results}, Jobs: jobs, Log: cmd.ErrOrStderr(),
				})
				if err != nil {
					unlock()
					if ctx.Err() != nil {
						return &exitError{code: 130, err: errors.New("interrupted")}
					}
					if !keepGoing || i == len(campaigns)-1 {
						err = fmt.Errorf("campaign %s: %w", c.Metadata.Name, err)
						var fe api.FieldError
						var nsr *api.NoSuchRunsError
						if errors.As(err, &fe) || errors.As(err, &nsr) {
							return invalidInput(err)
						}
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "campaign %s: %v\n", c.Metadata.Name, err)
					failed = true
					continue
				}
				ok, err := executeLocal(ctx, cmd, plan, lf, jobs, log)
				unlock()
				if err != nil {
					return err
				}
				failed = failed || !ok
			}
			if failed {
				return &exitError{code: 1, err: errors.New("some runs failed")}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "Campaign manifest to run")
	cmd.Flags().StringVar(&workdir, "workdir", "", "where the source is copied and built (default .simswarm/work/NAME next to --results)")
	cmd.Flags().BoolVar(&keepGoing, "keep-going", false, "with several campaigns in the file, run the others after one fails")
	lf.register(cmd)
	return cmd
}

func campaignNames(cs []*api.Campaign) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Metadata.Name
	}
	return strings.Join(names, ", ")
}

// executeLocal runs plan, prints the summary and reports whether every run
// succeeded; an interruption becomes exit status 130.
func executeLocal(ctx context.Context, cmd *cobra.Command, plan *local.Plan, lf localFlags, jobs int, log *zap.Logger) (bool, error) {
	stderr := cmd.ErrOrStderr()
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	fmt.Fprintf(stderr, "%d runs of %s, config %s\n", len(plan.Runs), plan.Args[0], plan.Config)
	sum, err := local.Execute(ctx, plan, local.Options{
		ResultsDir: lf.results, Jobs: jobs, Force: lf.force, Progress: stderr, TTY: tty, Logger: log,
	})
	if err != nil {
		return false, err
	}
	sum.Print(cmd.OutOrStdout(), lf.results)
	if sum.Interrupted {
		return false, &exitError{code: 130, err: errors.New("interrupted: finished runs are kept, run again to resume")}
	}
	return sum.Failed == 0, nil
}
