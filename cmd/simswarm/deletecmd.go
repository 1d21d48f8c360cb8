package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
)

func newDeleteCmd(g *globals) *cobra.Command {
	var cf clientFlags
	var purge, wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "delete [campaign] NAME",
		Short: "Delete a campaign: its queued runs and run records go; its results are kept unless --purge",
		Long: `Delete a campaign. Its queued runs are dropped and its run records removed,
in bounded batches: until that is done the campaign shows phase Deleting with
its progress (simswarm get / describe) and refuses changes, and a controller
restarted meanwhile continues where the last one stopped.

Its stored results are kept, under the campaign's uid, until you free them:

  simswarm results list                 result sets of deleted campaigns (uid, files, bytes)
  simswarm results pull --uid UID -o DIR
  simswarm results prune --uid UID      free them

--purge deletes the results too. By default the command waits until the
campaign is gone, printing progress; --wait=false returns at once.`,
		Example: `  simswarm delete aloha
  simswarm delete campaign aloha --purge
  simswarm delete aloha --wait=false`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if len(args) == 2 {
				n, err := kindArg(args)
				if err != nil {
					return err
				}
				name = n
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			cp, err := c.DeleteCampaign(cmd.Context(), name, purge)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			uid := cp.Metadata.UID
			if !wait {
				fmt.Fprintf(out, "campaign/%s is being deleted (uid %s)\n", name, uid)
			} else {
				if err := waitDeleted(cmd.Context(), c, name, timeout, cmd.ErrOrStderr()); err != nil {
					return err
				}
				fmt.Fprintf(out, "campaign/%s deleted\n", name)
			}
			if cp.Status.Deletion != nil && cp.Status.Deletion.Purge {
				fmt.Fprintf(out, "its results are deleted too (--purge)\n")
				return nil
			}
			fmt.Fprintf(out, "its results are kept as result set %s (simswarm results list):\n"+
				"  pull them:  simswarm results pull --uid %s -o DIR\n"+
				"  free them:  simswarm results prune --uid %s\n", uid, uid, uid)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&purge, "purge", false, "delete the campaign's stored results too (they cannot be pulled afterwards)")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until the campaign and its run records are gone")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --wait, give up waiting after this long (0: no limit; the delete goes on)")
	return cmd
}

// waitDeleted polls until the campaign is gone, reporting its progress
// when it changes (at most every few seconds).
func waitDeleted(ctx context.Context, c *client.Client, name string, timeout time.Duration, progress io.Writer) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	last, lastAt := int64(-1), time.Time{}
	for {
		cp, err := c.Get(ctx, name)
		if client.IsNotFound(err) {
			return nil
		}
		if err != nil && !client.IsTransient(err) {
			return err
		}
		if err == nil && cp.Status.Phase == api.PhaseDeleting && cp.Status.Deletion != nil &&
			cp.Status.Deletion.RunsRemoved != last && time.Since(lastAt) > 3*time.Second {
			last, lastAt = cp.Status.Deletion.RunsRemoved, time.Now()
			fmt.Fprintf(progress, "deleting campaign/%s: %d of %d run records removed\n", name, last, cp.Status.Runs.Total)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("campaign/%s is still being deleted (it goes on; simswarm get campaigns %s shows progress): %w", name, name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
