package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// globals are the flags every command shares.
type globals struct {
	logFormat string
	verbose   int
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "simswarm",
		Short: "Run OMNeT++/INET simulation campaigns on every core you have",
		Long: `simswarm runs simulation campaigns - one build of a model, then hundreds to
a million independent runs - and brings the result files back to results/.

On one machine, with nothing else installed:
  simswarm run -f examples/aloha/campaign.yaml      build and run a Campaign manifest
  simswarm runall -j 8 ./aloha -c PureAloha         a drop-in for opp_runall (same arguments)

On a Docker Swarm (your machines, or an AWS fleet "simswarm cluster" makes):
  simswarm stack deploy, then simswarm apply -f campaign.yaml, get, describe,
  wait and results pull against its controller.

A Campaign manifest (apiVersion simswarm.io/v1alpha1) says where the source
is, how to build it, which program, ini file, config and runs to execute, and
which result files to keep. Check one with "simswarm validate -f FILE" and list
its runs with "simswarm expand -f FILE".`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "console", "log format: console or json")
	root.PersistentFlags().CountVarP(&g.verbose, "verbose", "v", "more log detail (-v info, -vv debug)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return invalidInput(err) })

	root.AddCommand(
		newVersionCmd(),
		newControllerCmd(g), newApplyCmd(g), newGetCmd(g), newDescribeCmd(g), newDeleteCmd(g), newSuspendCmd(g, true), newSuspendCmd(g, false), newRetryCmd(g), newWaitCmd(g), newLogsCmd(g), newResultsCmd(g),
		newStackCmd(g),
		newClusterCmd(g),
		newValidateCmd(g), newExpandCmd(g),
		newRunCmd(g), newRunallCmd(g), newWorkerCmd(g),
	)
	argsAreInput(root)
	return root
}

// argsAreInput makes the argument check of c and every command below it
// an invalid-input error (exit status 2, as a bad flag is) that shows
// the command's usage line; cobra's own is a failure (1) that does not.
func argsAreInput(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return invalidInput(fmt.Errorf("%w\nusage: %s", err, cmd.UseLine()))
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		argsAreInput(sub)
	}
}

// nameOrFlag is the argument check of a command that takes one campaign
// NAME or, in its place, the flag flag (described by what); value is the
// flag's variable, read when the check runs.
func nameOrFlag(flag, what string, value *string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) > 1:
			return fmt.Errorf("one campaign NAME, not %d: %s", len(args), strings.Join(args, " "))
		case len(args) == 1 && *value != "":
			return fmt.Errorf("give a campaign NAME or %s (%s), not both", flag, what)
		case len(args) == 0 && *value == "":
			return fmt.Errorf("give a campaign NAME or %s (%s)", flag, what)
		}
		return nil
	}
}
