package main

import (
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
}

func (h campaignHooks) configure(cfg *manager.Config) {
	cfg.Decode, cfg.Default, cfg.Validate = h.Decode, h.Default, h.Validate
	cfg.FilterNumbers = h.FilterNumbers
}

var hooks = campaignHooks{
	LoadFile: api.LoadFile,
	Decode:   api.ParseManifests,
	Default:  api.SetDefaults,
	Validate: api.Validate,
	FilterNumbers: func(s string) ([]int, error) {
		f, err := api.ParseRunFilter(s)
		if err != nil {
			return nil, err
		}
		return f.Numbers(0), nil
	},
}
