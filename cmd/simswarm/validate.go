package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/simswarm/simswarm/api"
)

func newValidateCmd(g *globals) *cobra.Command {
	var (
		files  []string
		output string
	)
	cmd := &cobra.Command{
		Use:   "validate -f FILE...",
		Short: "Check Campaign manifests without running anything",
		Long: `Validate reads Campaign manifests, applies the defaults and reports every
problem at once, each with the path of the field it concerns, so that a
manifest can be fixed in one round. A file may hold several YAML documents
separated by "---" lines. Nothing is built, run or sent anywhere.

Decoding is strict: a misspelled field is an error, not silently ignored.

Examples:
  simswarm validate -f examples/aloha/campaign.yaml
  simswarm validate -f a.yaml -f b.yaml
  simswarm validate campaigns/*.yaml
  simswarm validate -f campaign.yaml -o yaml    # print with the defaults applied

A valid file prints one line per campaign:
  campaign/aloha valid

An invalid one prints its problems and exits with status 2:
  campaign.yaml: document 2: spec.simulation.confg: unknown field (did you mean "config"?)
  campaign.yaml: campaign "aloha" is invalid:
    spec.simulation.runs: "5..2" is not a valid range: 5 is greater than 2
    spec.retries: 101 is not in 0..100`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "yaml" && output != "json" {
				return invalidInput(fmt.Errorf("--output %q: want yaml or json (or nothing)", output))
			}
			paths := append(append([]string{}, files...), args...)
			if len(paths) == 0 {
				return invalidInput(errors.New("no manifest given: use -f FILE"))
			}
			var errs []error
			for _, p := range paths {
				cs, err := api.LoadFile(p)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for _, c := range cs {
					if output == "" {
						fmt.Fprintf(cmd.OutOrStdout(), "campaign/%s valid\n", c.Metadata.Name)
						continue
					}
					if err := printDefaulted(cmd.OutOrStdout(), c, output); err != nil {
						return err
					}
				}
			}
			if len(errs) > 0 {
				return invalidInput(errors.Join(errs...))
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file to check (repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "print each valid campaign with its defaults: yaml or json")
	return cmd
}

// printDefaulted writes a validated campaign with its defaults, as YAML
// documents or JSON lines; an empty status is left out.
func printDefaulted(w io.Writer, c *api.Campaign, format string) error {
	js, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode campaign %s: %w", c.Metadata.Name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return fmt.Errorf("encode campaign %s: %w", c.Metadata.Name, err)
	}
	if reflect.DeepEqual(c.Status, api.CampaignStatus{}) {
		delete(m, "status")
	}
	if format == "json" {
		js, err = json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", js)
		return err
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode campaign %s: %w", c.Metadata.Name, err)
	}
	_, err = fmt.Fprintf(w, "---\n%s", y)
	return err
}
