package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/sweep"
)

func newExpandCmd(g *globals) *cobra.Command {
	var (
		files  []string
		filter string
		config string
		output string
	)
	cmd := &cobra.Command{
		Use:   "expand -f FILE [--filter RUNS]",
		Short: "List the runs of a campaign with their iteration variables",
		Long: `Expand reads a Campaign manifest and the OMNeT++ ini file it names, expands
the config's parameter sweep and lists the runs, exactly as
"opp_run -c CONFIG -q runs" would:

  Run 0: $numHosts=10, $iaMean=1, $repetition=0
  Run 1: $numHosts=10, $iaMean=1, $repetition=1

The ini file is source.path/workingDir/iniFile, relative to the manifest
file; the config is spec.simulation.config and the runs are those selected
by spec.simulation.runs (all when it is empty). Nothing is built or run, so
this is the quick way to check what a campaign will do. A summary line per
campaign goes to stderr, the runs to stdout.

Examples:
  simswarm expand -f examples/aloha/campaign.yaml
  simswarm expand -f examples/aloha/campaign.yaml --filter 0..9,20
  simswarm expand -f campaign.yaml --config SlottedAloha -o names
  simswarm expand -f campaign.yaml -o numbers | wc -w

Output formats (-o):
  runs     Run N: $var=value, ..., $repetition=R   (default, like -q runs)
  names    the base name of each run's result files, e.g.
           PureAloha-numHosts=10,iaMean=1-#0 (add .sca, .vec)
  numbers  the run numbers on one line, like -q runnumbers -s

Only campaigns whose source is a local path can be expanded here; a git
source is expanded by the controller after checkout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return invalidInput(errors.New("no manifest given: use -f FILE"))
			}
			switch output {
			case "runs", "names", "numbers":
			default:
				return invalidInput(fmt.Errorf("--output %q: want runs, names or numbers", output))
			}
			for _, path := range files {
				cs, err := api.LoadFile(path)
				if err != nil {
					return invalidInput(err)
				}
				for _, c := range cs {
					if err := expandCampaign(cmd, path, c, filter, config, output); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "Campaign manifest file (repeatable)")
	cmd.Flags().StringVar(&filter, "filter", "", "run filter overriding spec.simulation.runs, e.g. 0..9,20")
	cmd.Flags().StringVarP(&config, "config", "c", "", "ini config overriding spec.simulation.config")
	cmd.Flags().StringVarP(&output, "output", "o", "runs", "output format: runs, names or numbers")
	return cmd
}

func expandCampaign(cmd *cobra.Command, manifest string, c *api.Campaign, filter, config, output string) error {
	name := "campaign/" + c.Metadata.Name
	sim := c.Spec.Simulation
	if c.Spec.Source.Path == "" {
		return fmt.Errorf("%s: expand needs a local source.path; git sources are expanded by the controller after checkout", name)
	}
	src := c.Spec.Source.Path
	if !filepath.IsAbs(src) {
		src = filepath.Join(filepath.Dir(manifest), src)
	}
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		return invalidInput(fmt.Errorf("%s: spec.source.path: %s is not a directory", name, src))
	}
	iniPath := filepath.Join(src, filepath.FromSlash(sim.WorkingDir), filepath.FromSlash(sim.IniFile))
	if config == "" {
		config = sim.Config
	}
	if filter == "" {
		filter = sim.Runs
	}
	if api.IsRunExpression(filter) {
		return invalidInput(fmt.Errorf("%s: run filter %q is an expression, which only the program can evaluate: ask it (%s -c %s -r '%s' -q runs), or apply the campaign: its builder asks the program", name, filter, strings.Join(sim.Program, " "), config, filter))
	}
	ini, err := sweep.ParseFile(iniPath)
	if err != nil {
		return invalidInput(fmt.Errorf("%s: %w", name, err))
	}
	runs, err := ini.Runs(config)
	if err != nil {
		return invalidInput(fmt.Errorf("%s: %w", name, err))
	}
	selected := runs
	if filter != "" {
		f, err := api.ParseRunFilter(filter)
		if err != nil {
			return invalidInput(fmt.Errorf("%s: run filter: %w", name, err))
		}
		nums := make([]int, len(runs))
		for i, r := range runs {
			nums[i] = r.Number
		}
		// Refused as the cluster and `simswarm run` refuse it.
		if _, err := f.Select(config, nums); err != nil {
			return invalidInput(fmt.Errorf("%s: run filter %q: %w, in %s", name, filter, err, iniPath))
		}
		selected = selected[:0:0]
		for _, r := range runs {
			if f.Contains(r.Number) {
				selected = append(selected, r)
			}
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: config %s of %s: %d of %d runs\n", name, config, iniPath, len(selected), len(runs))
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	switch output {
	case "numbers":
		nums := make([]string, len(selected))
		for i, r := range selected {
			nums[i] = fmt.Sprint(r.Number)
		}
		fmt.Fprintln(out, strings.Join(nums, " "))
	case "names":
		for _, r := range selected {
			fmt.Fprintln(out, r.ResultBase())
		}
	default:
		for _, r := range selected {
			fmt.Fprintln(out, r.String())
		}
	}
	return nil
}
