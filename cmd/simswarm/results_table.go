package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/workers/resulttable"
)

func newResultsTableCmd() *cobra.Command {
	var cf clientFlags
	var dir, format string
	var patterns []string
	cmd := &cobra.Command{
		Use:   "table (NAME | --dir DIR) [--scalar PATTERN]... [-o text|csv|json]",
		Short: "Scalars by iteration variables, averaged over repetitions with 95% confidence intervals",
		Long: `Print a table of scalar results by iteration variables: for each point of
the sweep (its iteration variables, the repetition aside) and each selected
scalar, the number of repetitions n, the mean, the standard deviation and the
half-width of the 95% confidence interval of the mean (Student's t).

From a controller (NAME: the campaign's runs indexed so far, live while it
runs), or with --dir from the .sca files of a local results directory, with
no controller at all. Statistics' fields are scalars named
<statistic>:<field>, as opp_scavetool -w names them (e.g.
collisionLength:histogram:mean). --scalar selects by a glob on
<module>.<name>: ** matches anything, * and ? anything but a dot, {a,b} either;
give it several times for several; none selects everything.

Runs whose .sca could not be read are listed after the table (text), never
left out silently.`,
		Example: `  simswarm results table aloha --scalar 'Aloha.server.channelUtilization:last'
  simswarm results table --dir results --scalar '**.collisionLength:histogram:{mean,count}' -o csv`,
		Args: nameOrFlag("--dir DIR", "a local results directory", &dir),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := resulttable.NewFilter(patterns)
			if err != nil {
				return invalidInput(fmt.Errorf("--scalar %w", err))
			}
			if err := resulttable.CheckFormat(format); err != nil {
				return invalidInput(err)
			}
			if dir != "" {
				if st, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
					return invalidInput(fmt.Errorf("--dir %s: no such directory", dir))
				} else if err == nil && !st.IsDir() {
					return invalidInput(fmt.Errorf("--dir %s: not a directory", dir))
				}
			}
			var t *resulttable.Table
			if dir != "" {
				t, err = resulttable.FromDir(dir, f)
			} else {
				c, cerr := cf.client(cmd)
				if cerr != nil {
					return cerr
				}
				t, err = c.ResultTable(cmd.Context(), args[0], patterns)
			}
			if err != nil {
				return err
			}
			if err := t.Write(cmd.OutOrStdout(), format); err != nil {
				return err
			}
			// An empty table says why, where it is not the output.
			switch {
			case len(t.Rows) > 0:
			case t.Runs == 0 && dir != "":
				fmt.Fprintf(cmd.ErrOrStderr(), "no .sca file of a run below %s\n", dir)
			case t.Runs == 0:
				fmt.Fprintf(cmd.ErrOrStderr(), "no run of campaign %s is indexed yet\n", args[0])
			case len(patterns) > 0:
				fmt.Fprintf(cmd.ErrOrStderr(), "no scalar of the %d runs read matches --scalar %s (without --scalar the table lists them all)\n",
					t.Runs, strings.Join(patterns, " --scalar "))
			}
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&dir, "dir", "", "read the .sca files below this local results directory instead of a controller")
	cmd.Flags().StringArrayVar(&patterns, "scalar", nil, "glob on <module>.<name> selecting the scalars (repeatable)")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text, csv or json")
	return cmd
}
