package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/controller/client"
)

func newResultsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "results", Short: "Fetch the result files of a campaign, or of a deleted one (list, pull --uid, prune)"}
	var cf clientFlags
	var dir, uid string
	var jobs int
	pull := &cobra.Command{
		Use:   "pull (NAME | --uid UID) -o DIR",
		Short: "Download a campaign's result files into DIR (resumable, sha256-verified)",
		Long: `Download every stored result file of a campaign into DIR, as opp_runall
would have left them in results/. Files already present with the right
sha256 are skipped, so an interrupted pull resumes; small files of one run
are fetched together, larger ones one by one, -j at a time; each file is
written to a temporary name, verified and renamed. Stored names that are not
relative paths of plain file names (absolute, "..", backslash, NUL, .simswarm)
are refused.

--uid UID pulls the results a deleted campaign kept instead (simswarm
results list shows the uids).`,
		Example: `  simswarm results pull aloha -o results
  simswarm results pull --uid 0b7c...-9e2f -o old-results`,
		Args: nameOrFlag("--uid UID", "of a deleted campaign", &uid),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var st client.PullStats
			if uid != "" {
				st, err = c.PullKeptResults(cmd.Context(), uid, dir, jobs)
			} else {
				st, err = c.PullResults(cmd.Context(), args[0], dir, jobs)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d files downloaded, %d already present, into %s\n", st.Downloaded, st.Skipped, dir)
			return err
		},
	}
	cf.add(pull)
	pull.Flags().StringVarP(&dir, "output", "o", "results", "directory to write the files into")
	pull.Flags().IntVarP(&jobs, "jobs", "j", 4, "parallel downloads")
	pull.Flags().StringVar(&uid, "uid", "", "pull the results kept by the deleted campaign of this uid (see results list)")
	cmd.AddCommand(pull, newResultsListCmd(), newResultsPruneCmd(), newResultsTableCmd())
	return cmd
}
