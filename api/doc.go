// Package api defines simswarm's declarative manifests: the Campaign kind
// (apiVersion simswarm.io/v1alpha1), the Stack kind, and the helpers every
// other package uses to read them.
//
// A Campaign manifest goes through three separate steps, in this order:
//
//	campaigns, err := api.ParseManifests(data, "campaign.yaml") // strict decode, several YAML documents
//	api.SetDefaults(c)                                          // fill what the user left out
//	err = api.Validate(c)                                       // every problem, with its field path
//
// LoadFile does all three for a file on disk (Load for bytes) and bounds
// its size. Run filters in opp_run's -r syntax ("0..99", "1,5,8",
// "0..9,20") are parsed by ParseRunFilter into a RunFilter that answers
// Contains, Count and Numbers without expanding. Package api/sweep expands
// an OMNeT++ ini config into its numbered runs.
//
// Errors: decoding fails with a *DecodeError (one "source: document N:
// path: detail" line per problem: unknown or misspelled fields with a
// suggestion, values of the wrong type, YAML syntax with file line
// numbers); validation fails with a *ValidationError listing every problem
// as a FieldError{Path, Value, Detail}, printed as "path: detail" lines,
// e.g. `spec.simulation.runs: "5..2" is not a valid range: 5 is greater
// than 2`.
//
// Guarantees: decoding is strict (an unknown or misspelled field is an
// error naming its path, e.g. spec.simulation.confg, and field names are
// case-sensitive); validation reports all problems at once; defaulting is
// idempotent and never overwrites what the user gave; no input makes the
// decoder panic or use unbounded time or memory: manifests are capped at
// MaxManifestBytes before parsing, YAML alias expansion is bounded (also for
// aliases of long strings), and run filters and sweeps at MaxRuns runs.
//
// A Stack (ParseStack, LoadStackFile) is decoded by the same strict walk,
// with the same errors; an explicit port: 0 is refused there rather than
// defaulted.
//
// Durations (every one is a Duration, e.g. spec.timeout) are strings with
// a unit: "90s", "10m", "1h30m". A bare number (5) and a string without a
// unit ("5") are refused alike, with the suggestion `write "5s"`; 0s is
// refused at decoding (it would read as "left out" and take the default;
// there is no "no timeout"); negative ones fail validation. An unset
// Duration is left out when encoding (omitzero), so a campaign encoded
// before defaulting decodes again.
package api
