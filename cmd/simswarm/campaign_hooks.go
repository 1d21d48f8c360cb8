package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/manager"
)

// campaignHooks connects the controller and the CLI to the manifest
// functions of package api. They are the only place that does, so the
// controller packages stay testable on their own.
type campaignHooks struct {
	LoadFile      func(path string) ([]*api.Campaign, error)
	Decode        func(data []byte, source string) ([]*api.Campaign, error)
	Default       func(*api.Campaign)
	Validate      func(*api.Campaign) error
	FilterNumbers func(string) ([]int, error)
	IniRunCount   func(r io.Reader, name, config string) (int, error)
}

func (h campaignHooks) configure(cfg *manager.Config) {
	cfg.Decode, cfg.Default, cfg.Validate = h.Decode, h.Default, h.Validate
	cfg.FilterNumbers, cfg.IniRunCount = h.FilterNumbers, h.IniRunCount
}

var hooks = campaignHooks{
	LoadFile:      loadManifestFile,
	Decode:        decodeManifests,
	Default:       defaultCampaign,
	Validate:      validateCampaign,
	FilterNumbers: filterNumbers,
}

// The functions below are the minimal manifest handling the controller
// needs until package api provides ParseManifests/SetDefaults/Validate/
// ParseRunFilter and api/sweep (then they are replaced by those).

const maxManifestBytes = 1 << 20

func loadManifestFile(path string) ([]*api.Campaign, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxManifestBytes)
	}
	cs, err := decodeManifests(b, path)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		defaultCampaign(c)
		if err := validateCampaign(c); err != nil {
			return nil, fmt.Errorf("%s: campaign %s: %w", path, c.Metadata.Name, err)
		}
	}
	return cs, nil
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func decodeManifests(data []byte, source string) ([]*api.Campaign, error) {
	var out []*api.Campaign
	for i, doc := range docSep.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var c api.Campaign
		if err := yaml.UnmarshalStrict([]byte(doc), &c); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i+1, err)
		}
		if c.Kind != "" && c.Kind != api.KindCampaign {
			return nil, fmt.Errorf("%s: document %d: kind %q is not %s", source, i+1, c.Kind, api.KindCampaign)
		}
		out = append(out, &c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no manifest", source)
	}
	return out, nil
}

func defaultCampaign(c *api.Campaign) {
	if c.APIVersion == "" {
		c.APIVersion = api.APIVersion
	}
	if c.Kind == "" {
		c.Kind = api.KindCampaign
	}
	if len(c.Spec.Results) == 0 {
		c.Spec.Results = []string{"results/*.sca", "results/*.vec", "results/*.vci"}
	}
	if c.Spec.Timeout.Duration == 0 {
		c.Spec.Timeout.Duration = 3600e9
	}
	if c.Spec.Retries == nil {
		r := int32(2)
		c.Spec.Retries = &r
	}
	if c.Spec.Simulation.IniFile == "" {
		c.Spec.Simulation.IniFile = "omnetpp.ini"
	}
	if c.Spec.Simulation.Config == "" {
		c.Spec.Simulation.Config = "General"
	}
}

var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func validateCampaign(c *api.Campaign) error {
	var errs []string
	add := func(f, m string) { errs = append(errs, f+": "+m) }
	if !dnsName.MatchString(c.Metadata.Name) {
		add("metadata.name", fmt.Sprintf("%q is not a DNS label", c.Metadata.Name))
	}
	s := c.Spec.Source
	if (s.Path == "" && s.Archive == "") == (s.Git == nil) {
		add("spec.source", "exactly one of path or git is required")
	}
	if s.Git != nil && (s.Git.URL == "" || s.Git.Commit == "") {
		add("spec.source.git", "url and commit are required")
	}
	if len(c.Spec.Simulation.Program) == 0 {
		add("spec.simulation.program", "required")
	}
	if c.Spec.Simulation.Runs != "" {
		if _, err := filterNumbers(c.Spec.Simulation.Runs); err != nil {
			add("spec.simulation.runs", err.Error())
		}
	}
	if c.Spec.Retries != nil && *c.Spec.Retries < 0 {
		add("spec.retries", "must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// filterNumbers parses an opp_run -r filter of items N or A..B.
func filterNumbers(s string) ([]int, error) {
	seen := map[int]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		a, b, isRange := strings.Cut(item, "..")
		lo, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil || lo < 0 {
			return nil, fmt.Errorf("%q is not a run number or range", item)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil || hi < lo {
				return nil, fmt.Errorf("%q is not a run range", item)
			}
		}
		if hi-lo > 1_000_000 || len(seen) > 1_000_000 {
			return nil, fmt.Errorf("more than 1000000 runs")
		}
		for n := lo; n <= hi; n++ {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}
