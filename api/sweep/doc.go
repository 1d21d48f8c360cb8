// Package sweep reads OMNeT++ ini files and expands a config's parameter
// sweep into numbered runs, exactly as opp_run's `-q runs` lists them.
//
// Use:
//
//	ini, err := sweep.ParseFile("omnetpp.ini")
//	runs, err := ini.Runs("PureAloha")
//	for _, r := range runs {
//		fmt.Println(r)            // Run 0: $numHosts=10, $iaMean=1, $repetition=0
//		base := r.ResultBase()    // PureAloha-numHosts=10,iaMean=1-#0
//	}
//
// For large sweeps, ini.Sweep(config) gives Count and any single Run(n)
// without expanding the others; ini.Count(config) only counts.
//
// The dialect (shared with the example model examples/aloha, which a test
// cross-checks) is:
//
//   - Sections [General] and [Config NAME]; "extends = NAME" in a config names
//     its single parent; General is the implicit root of every chain. A key in
//     a child overrides the parent's. "-c General" is the General section alone.
//   - "key = value" lines; '#' starts a comment outside double quotes; blank
//     lines are ignored; include is not supported.
//   - Iteration variables in values: ${name=v1,v2,v3} (list, values trimmed,
//     as written), ${name=A..B} and ${name=A..B step S} (inclusive numeric
//     range, S > 0 and possibly fractional, values formatted like C's "%g").
//     ${name} alone refers to a variable defined elsewhere. An unnamed
//     ${1,2,3} and a variable defined twice are errors.
//   - repeat = N (default 1) adds $repetition = 0..N-1.
//   - Variables are ordered by first appearance, scanning the config's own
//     section first (line order), then its parent, ..., then General; only
//     entries not overridden by a child count. The first variable is the
//     outermost loop and the repetition the innermost; a run's number is its
//     index in this nested iteration.
//
// Guarantees: errors name the file and line; no config expands to more than
// api.MaxRuns runs (such a config is an error, found without expanding it);
// ini files are capped at MaxIniBytes.
package sweep
