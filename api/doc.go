// Package api defines simswarm's declarative manifests: the Campaign kind
// (apiVersion simswarm.io/v1alpha1) and the helpers every other package uses
// to read them.
//
// A manifest goes through three separate steps, in this order:
//
//	campaigns, err := api.ParseManifests(data, "campaign.yaml") // strict decode, several YAML documents
//	api.SetDefaults(c)                                          // fill what the user left out
//	err = api.Validate(c)                                       // every problem, with its field path
//
// LoadFile does all three for a file on disk and bounds its size.
//
// Guarantees: decoding is strict (an unknown or misspelled field is an error
// naming its path, e.g. spec.simulation.confg); validation reports all
// problems at once as a *ValidationError whose entries carry field paths;
// defaulting is idempotent; no input makes the decoder panic or allocate
// without bound (manifests are capped at MaxManifestBytes, run filters at
// MaxRuns runs).
package api
