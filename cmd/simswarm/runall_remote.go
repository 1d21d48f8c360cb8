package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// runallRemote is `simswarm runall --server URL -- PROGRAM ARGS...`: the
// original system's client experience. It turns the opp_runall-style
// command line into a Campaign whose source is the current directory
// (uploaded; built with make when there is a Makefile), submits it, shows
// progress until it finishes and pulls the result files into resultsDir.
func runallRemote(cmd *cobra.Command, cf *clientFlags, inv oppcli.ClusterInvocation, timeout time.Duration, retries int, resultsDir string) error {
	c, err := cf.client(cmd)
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	camp := remoteCampaign(inv, wd, timeout, retries)
	if err := uploadSource(cmd, c, camp, wd); err != nil {
		return err
	}
	// Same source and command line: same campaign (re-running resumes it).
	camp.Metadata.Name = runallName(inv, camp.Spec.Source.Archive)
	api.SetDefaults(camp)
	if err := api.Validate(camp); err != nil {
		return invalidInput(err)
	}
	if _, err := c.Apply(cmd.Context(), camp); err != nil {
		return apiErr(fmt.Errorf("submit %s: %w", camp.Metadata.Name, err))
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "campaign/%s submitted\n", camp.Metadata.Name)
	final, err := waitCampaign(cmd, c, camp.Metadata.Name, 0, time.Second, false)
	if err != nil {
		return err
	}
	st, err := c.PullResults(cmd.Context(), camp.Metadata.Name, resultsDir, 4)
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d/%d runs succeeded; %d result files downloaded, %d already present in %s\n",
		camp.Metadata.Name, final.Status.Runs.Succeeded, final.Status.Runs.Total, st.Downloaded, st.Skipped, resultsDir)
	if err != nil {
		return err
	}
	if final.Status.Phase != api.PhaseSucceeded {
		return &exitError{code: 1, err: fmt.Errorf("campaign %s %s: %s", camp.Metadata.Name, final.Status.Phase, stalledMessage(final))}
	}
	return nil
}

func remoteCampaign(inv oppcli.ClusterInvocation, wd string, timeout time.Duration, retries int) *api.Campaign {
	build := api.BuildSpec{Command: []string{"true"}}
	if _, err := os.Stat("Makefile"); err == nil {
		build.Command = []string{"make"}
	}
	r := int32(retries)
	return &api.Campaign{
		TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Labels: map[string]string{"simswarm.io/created-by": "runall"}},
		Spec: api.CampaignSpec{
			Source:     api.SourceSpec{Path: wd},
			Build:      build,
			Simulation: api.SimulationSpec{Program: inv.Program, IniFile: inv.Ini, Config: inv.Config, Runs: inv.Filter},
			Timeout:    api.Duration{Duration: timeout},
			Retries:    &r,
		},
	}
}

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// runallName derives a stable DNS-label name from the config, the command
// line and the source digest.
func runallName(inv oppcli.ClusterInvocation, archive string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %q %s", inv.Program, inv.Ini, inv.Config, inv.Filter, archive)
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(inv.Config), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	if base == "" {
		base = "general"
	}
	return "runall-" + base + "-" + hex.EncodeToString(h.Sum(nil))[:10]
}
