package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/internal/textutil"
)

// apiErr maps a rejected manifest (422) to exit status 2.
func apiErr(err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && (ae.Code == http.StatusUnprocessableEntity || ae.Code == http.StatusBadRequest) {
		return invalidInput(err)
	}
	return err
}

func newGetCmd(g *globals) *cobra.Command {
	var cf clientFlags
	var output string
	cmd := &cobra.Command{
		Use:   "get campaigns [NAME]",
		Short: "List campaigns (-o wide|yaml|json)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if k := args[0]; k != "campaigns" && k != "campaign" && k != "cp" {
				return invalidInput(fmt.Errorf("get: unknown kind %q (only campaigns)", k))
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var items []*api.Campaign
			if len(args) == 2 {
				cp, err := c.Get(cmd.Context(), args[1])
				if err != nil {
					return err
				}
				items = []*api.Campaign{cp}
			} else if items, err = c.List(cmd.Context()); err != nil {
				return err
			}
			return printCampaigns(cmd.OutOrStdout(), items, output, len(args) == 2)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide, yaml or json")
	return cmd
}

func printCampaigns(w io.Writer, items []*api.Campaign, output string, single bool) error {
	var v any = map[string]any{"apiVersion": api.APIVersion, "kind": "CampaignList", "items": items}
	if single && len(items) == 1 {
		v = items[0]
	}
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "", "wide":
	default:
		return invalidInput(fmt.Errorf("-o %q: use wide, yaml or json", output))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if output == "wide" {
		fmt.Fprintln(tw, "NAME\tPHASE\tSUCCEEDED\tFAILED\tRUNNING\tQUEUED\tPENDING\tPRIORITY\tBUILD\tGEN\tAGE")
	} else {
		fmt.Fprintln(tw, "NAME\tPHASE\tRUNS\tFAILED\tAGE")
	}
	for _, c := range items {
		r := c.Status.Runs
		age := "-"
		if c.Metadata.CreationTimestamp != nil {
			age = shortDuration(time.Since(*c.Metadata.CreationTimestamp))
		}
		phase := c.Status.Phase
		if phase == "" {
			phase = "Pending"
		}
		if output == "wide" {
			build := c.Status.Build.Phase
			if c.Status.Build.CacheHit {
				build += "(cached)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\n", c.Metadata.Name, phase, r.Succeeded, r.Failed,
				r.Running, r.Queued, r.Pending, c.Spec.Priority, build, c.Metadata.Generation, age)
		} else {
			runs := fmt.Sprintf("%d/%d", r.Succeeded, r.Total)
			if r.Skipped > 0 {
				runs += fmt.Sprintf(" (%d skipped)", r.Skipped)
			}
			if r.Reused > 0 {
				runs += fmt.Sprintf(" (%d reused)", r.Reused)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", c.Metadata.Name, phase, runs, r.Failed, age)
		}
	}
	return tw.Flush()
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func kindArg(args []string) (string, error) {
	if len(args) != 2 || (args[0] != "campaign" && args[0] != "campaigns" && args[0] != "cp") {
		return "", invalidInput(fmt.Errorf("usage: campaign NAME"))
	}
	return args[1], nil
}

func newDescribeCmd(g *globals) *cobra.Command {
	var cf clientFlags
	var showRuns int
	cmd := &cobra.Command{
		Use:   "describe campaign NAME",
		Short: "Show a campaign's spec, status, conditions, counts and recent failures",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := kindArg(args)
			if err != nil {
				return err
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			cp, err := c.Get(cmd.Context(), name)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			m, s := cp.Metadata, cp.Status
			fmt.Fprintf(w, "Name:          %s\nUID:           %s\nGeneration:    %d (observed %d)\nResource ver.: %s\n", m.Name, m.UID, m.Generation, s.ObservedGeneration, m.ResourceVersion)
			for k, v := range m.Labels {
				fmt.Fprintf(w, "Label:         %s=%s\n", k, v)
			}
			src := cp.Spec.Source.Path
			if cp.Spec.Source.Git != nil {
				src = cp.Spec.Source.Git.URL + "@" + cp.Spec.Source.Git.Commit
			}
			if cp.Spec.Source.Archive != "" {
				src += " (archive " + short12(cp.Spec.Source.Archive) + ")"
			}
			sim := cp.Spec.Simulation
			fmt.Fprintf(w, "Source:        %s\nProgram:       %s\nConfig:        %s  ini %s  runs %q\n", src, strings.Join(sim.Program, " "), sim.Config, sim.IniFile, sim.Runs)
			fmt.Fprintf(w, "Priority:      %d  Suspend: %v  Parallelism: %d\n", cp.Spec.Priority, cp.Spec.Suspend, cp.Spec.Parallelism)
			fmt.Fprintf(w, "Phase:         %s\n", s.Phase)
			fmt.Fprintf(w, "Build:         %s key %s cached=%v %s\n", s.Build.Phase, short12(s.Build.Key), s.Build.CacheHit, s.Build.Message)
			r := s.Runs
			fmt.Fprintf(w, "Runs:          total %d, succeeded %d, failed %d, running %d, queued %d, pending %d", r.Total, r.Succeeded, r.Failed, r.Running, r.Queued, r.Pending)
			if r.Blocked > 0 {
				fmt.Fprintf(w, ", blocked %d (the build failed)", r.Blocked)
			}
			if r.Skipped > 0 {
				fmt.Fprintf(w, ", skipped %d (not needed by the stop rule)", r.Skipped)
			}
			if r.Reused > 0 {
				fmt.Fprintf(w, ", reused %d (of the succeeded: results of runs already stored, not run again)", r.Reused)
			}
			fmt.Fprintln(w)
			describeStop(w, cp)
			if s.StartTime != nil {
				fmt.Fprintf(w, "Started:       %s\n", s.StartTime.Format(time.RFC3339))
			}
			if s.CompletionTime != nil {
				fmt.Fprintf(w, "Completed:     %s\n", s.CompletionTime.Format(time.RFC3339))
			}
			if s.SourceRevision != "" {
				fmt.Fprintf(w, "Revision:      %s\n", s.SourceRevision)
			}
			fmt.Fprintln(w, "Conditions:")
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tMESSAGE")
			for _, cd := range s.Conditions {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", cd.Type, cd.Status, cd.Reason, cd.Message)
			}
			tw.Flush()
			if showRuns > 0 && r.Total > 0 {
				page, err := c.Runs(cmd.Context(), name, "", -1, showRuns)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "Runs (%d of %d):\n", len(page.Items), r.Total)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  RUN\tSTATE\tATTEMPTS\tITERATION VARIABLES")
				for _, x := range page.Items {
					vars := page.Itervars[x.Run]
					if vars == "" {
						vars = "-"
					}
					fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\n", x.Run, x.State, x.Attempts, vars)
				}
				tw.Flush()
			}
			if r.Failed > 0 {
				page, err := c.Runs(cmd.Context(), name, schema.RunFailed, -1, 5)
				if err == nil && len(page.Items) > 0 {
					fmt.Fprintln(w, "Recent failures:")
					for _, f := range page.Items {
						fmt.Fprintf(w, "  run %d: exit %d after %d attempt(s) on %s %s\n", f.Run, f.ExitCode, f.Attempts, f.Worker, f.Message)
						if v := page.Itervars[f.Run]; v != "" {
							fmt.Fprintf(w, "    iteration variables: %s\n", v)
						}
						if f.Attempts > 1 && len(f.FailureKinds) == 1 {
							fmt.Fprintf(w, "    every attempt failed the same way: deterministic, retrying will not help\n")
						}
						for _, line := range tailLines(f.StderrTail, 5) {
							fmt.Fprintf(w, "    | %s\n", line)
						}
					}
				}
			}
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().IntVar(&showRuns, "runs", 10, "list this many runs (the first ones) with their state and iteration variables; 0: none")
	return cmd
}

func short12(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func tailLines(s string, n int) []string {
	if s = textutil.LastLines(s, n); s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func newSuspendCmd(g *globals, suspend bool) *cobra.Command {
	var cf clientFlags
	use, short, verb := "suspend NAME", "Stop dispatching a campaign's runs (running ones finish)", "suspended"
	if !suspend {
		use, short, verb = "resume NAME", "Continue a suspended campaign", "resumed"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[len(args)-1]
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if suspend {
				_, err = c.Suspend(cmd.Context(), name)
			} else {
				_, err = c.Resume(cmd.Context(), name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "campaign/%s %s\n", name, verb)
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}

func newRetryCmd(g *globals) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "retry NAME",
		Short: "Send a campaign's failed runs back to the queue for one more attempt each",
		Long: `Send every failed run of a campaign back to the queue. Each gets one more
attempt, beyond the campaign's spec.retries, with its attempt count kept; runs
that succeeded are not touched. Useful after fixing what made them fail (a
full disk, a node that ran out of memory) without rerunning the campaign.

  simswarm retry aloha && simswarm wait aloha`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			msg, err := c.Retry(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}

func newWaitCmd(g *globals) *cobra.Command {
	var cf clientFlags
	var timeout, interval time.Duration
	var quiet bool
	cmd := &cobra.Command{
		Use:   "wait NAME",
		Short: "Wait until a campaign finishes; exit status 0 if it succeeded, 1 if not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if err := positiveDurations(cmd.Flags(), "interval"); err != nil {
				return err
			}
			cp, err := waitCampaign(cmd, c, args[0], timeout, interval, quiet)
			if err != nil {
				return err
			}
			if cp.Status.Phase != api.PhaseSucceeded {
				return fmt.Errorf("campaign %s %s: %s", args[0], cp.Status.Phase, stalledMessage(cp))
			}
			if sk := cp.Status.Runs.Skipped; sk > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "campaign/%s succeeded (%d runs, %d skipped by the stop rule)\n", args[0], cp.Status.Runs.Succeeded, sk)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "campaign/%s succeeded (%d runs)\n", args[0], cp.Status.Runs.Succeeded)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0 = never)")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "poll interval")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines")
	return cmd
}

// progressLine is what wait prints of a campaign not finished yet: its
// counts and, while the controller's passes fail, why.
func progressLine(name string, cp *api.Campaign) string {
	s := cp.Status
	line := fmt.Sprintf("%s: %s %d/%d succeeded, %d failed, %d running, %d queued", name, s.Phase,
		s.Runs.Succeeded, s.Runs.Total, s.Runs.Failed, s.Runs.Running, s.Runs.Queued)
	if s.Runs.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", s.Runs.Skipped)
	}
	if s.Runs.Reused > 0 {
		line += fmt.Sprintf(", %d reused", s.Runs.Reused)
	}
	var ready, retrying bool
	var why string
	for _, c := range s.Conditions {
		switch {
		case c.Type == api.ConditionReconciling && c.Reason == api.ReasonProgressingWithRetry:
			retrying = true
		case c.Type == api.ConditionReady && c.Status == api.ConditionFalse:
			ready, why = true, c.Reason+": "+c.Message
		}
	}
	if retrying && ready {
		line += "; the controller's passes fail (" + why + ")"
	}
	return line
}

func stalledMessage(cp *api.Campaign) string {
	for _, c := range cp.Status.Conditions {
		if c.Type == api.ConditionStalled && c.Status == api.ConditionTrue {
			return c.Reason + ": " + c.Message
		}
	}
	return "not finished"
}

// waitCampaign polls until the campaign is terminal (Succeeded or Failed)
// for its current generation.
func waitCampaign(cmd *cobra.Command, c *client.Client, name string, timeout, interval time.Duration, quiet bool) (*api.Campaign, error) {
	ctx := cmd.Context()
	start := time.Now()
	last := ""
	for {
		cp, err := c.Get(ctx, name)
		if err != nil {
			// The controller restarting (or a standby taking over) is no
			// reason to stop waiting: the campaign goes on without it.
			if !client.IsTransient(err) || timeout > 0 && time.Since(start) > timeout {
				return nil, err
			}
			if !quiet && last != "unreachable" {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: controller not answering (%v); still waiting\n", name, err)
				last = "unreachable"
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(interval):
			}
			continue
		}
		s := cp.Status
		if s.ObservedGeneration == cp.Metadata.Generation && (s.Phase == api.PhaseSucceeded || s.Phase == api.PhaseFailed) {
			return cp, nil
		}
		line := progressLine(name, cp)
		if !quiet && line != last {
			fmt.Fprintln(cmd.ErrOrStderr(), line)
			last = line
		}
		if timeout > 0 && time.Since(start) > timeout {
			return nil, fmt.Errorf("campaign %s not finished after %v (%s)", name, timeout, s.Phase)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}

func newLogsCmd(g *globals) *cobra.Command {
	var cf clientFlags
	var run int
	cmd := &cobra.Command{
		Use:   "logs NAME --run N",
		Short: "Print a run's stderr tail and status",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if run < 0 {
				return invalidInput(fmt.Errorf("--run N is required"))
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			s, err := c.Logs(cmd.Context(), args[0], run)
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), s)
			return err
		},
	}
	cf.add(cmd)
	cmd.Flags().IntVar(&run, "run", -1, "run number")
	return cmd
}
