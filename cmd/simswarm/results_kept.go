package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
)

func newResultsListCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the results that deleted campaigns kept (name, uid, deletion time, files, bytes)",
		Long: `List the result sets of deleted campaigns: a campaign deleted without --purge
keeps its stored results under its uid. STATE is Deleting while its run records
are still being removed (counts not final), Kept, or Pruning while its files are
being freed. Pull one with 'simswarm results pull --uid UID -o DIR', free it with
'simswarm results prune --uid UID'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			sets, err := c.ResultSets(cmd.Context())
			if err != nil {
				return err
			}
			if len(sets) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no results of deleted campaigns are kept")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tUID\tDELETED\tSTATE\tRUNS\tFILES\tBYTES")
			for _, rs := range sets {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d (%s)\n", rs.Name, rs.UID, rs.DeletedAt.UTC().Format(time.RFC3339),
					rs.State, rs.Runs, rs.Files, rs.Bytes, humanSize(rs.Bytes))
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	return cmd
}

func newResultsPruneCmd() *cobra.Command {
	var cf clientFlags
	var uid string
	var allDeleted, wait bool
	var olderThan time.Duration
	cmd := &cobra.Command{
		Use:   "prune (--uid UID | --all-deleted) [--older-than DUR]",
		Short: "Free the stored results of deleted campaigns (GridFS files and chunks)",
		Long: `Free the results a deleted campaign kept: its result files (GridFS file documents
and chunks) and their index go, in bounded batches, and the result set disappears
from 'simswarm results list'. This cannot be undone.

--uid UID prunes one result set; --all-deleted every one that is Kept.
--older-than DUR only prunes result sets deleted at least DUR ago (e.g. 720h).
A live campaign's results are not prunable: delete it (simswarm delete NAME, or
delete --purge to free its results at once). The command waits until the files
are freed, unless --wait=false; the controller finishes a prune it was asked
for even if it restarts meanwhile.`,
		Example: `  simswarm results prune --uid 0b7c...-9e2f
  simswarm results prune --all-deleted --older-than 720h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (uid == "") == !allDeleted {
				return invalidInput(fmt.Errorf("give either --uid UID or --all-deleted"))
			}
			if olderThan < 0 {
				return invalidInput(fmt.Errorf("--older-than %v: must not be negative", olderThan))
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var uids []string
			if uid != "" {
				rs, err := c.ResultSet(ctx, uid)
				if err != nil {
					return err
				}
				if olderThan > 0 && time.Since(rs.DeletedAt) < olderThan {
					fmt.Fprintf(cmd.OutOrStdout(), "result set %s (%s) was deleted %s ago, less than --older-than %v: kept\n",
						uid, rs.Name, time.Since(rs.DeletedAt).Round(time.Second), olderThan)
					return nil
				}
				uids = []string{uid}
			} else {
				sets, err := c.ResultSets(ctx)
				if err != nil {
					return err
				}
				for _, rs := range sets {
					if rs.State == schema.ResultSetKept && time.Since(rs.DeletedAt) >= olderThan {
						uids = append(uids, rs.UID)
					}
				}
			}
			out := cmd.OutOrStdout()
			if len(uids) == 0 {
				fmt.Fprintln(out, "nothing to prune")
				return nil
			}
			for _, u := range uids {
				rs, err := c.Prune(ctx, u)
				if err != nil {
					return err
				}
				if !wait {
					fmt.Fprintf(out, "pruning result set %s (%s): %d files, %s\n", rs.UID, rs.Name, rs.Files, humanSize(rs.Bytes))
					continue
				}
				if err := waitPruned(ctx, c, u); err != nil {
					return err
				}
				fmt.Fprintf(out, "pruned result set %s (%s): %d files, %s freed\n", rs.UID, rs.Name, rs.Files, humanSize(rs.Bytes))
			}
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&uid, "uid", "", "the result set to prune (see simswarm results list)")
	cmd.Flags().BoolVar(&allDeleted, "all-deleted", false, "prune every result set of deleted campaigns")
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "only result sets deleted at least this long ago (e.g. 720h)")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until the files are freed")
	return cmd
}

// waitPruned polls until the result set of uid is gone.
func waitPruned(ctx context.Context, c *client.Client, uid string) error {
	for {
		_, err := c.ResultSet(ctx, uid)
		if client.IsNotFound(err) {
			return nil
		}
		if err != nil && !client.IsTransient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// humanSize formats a byte count with a binary unit.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
