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
// The dialect is OMNeT++ 6.1's (src/envir: inifilereader.cc,
// sectionbasedconfig.cc, scenario.cc, valueiterator.cc), and a test
// cross-checks every testdata ini against the real opp_run -q runs:
//
//   - Sections [General], [Config NAME] and [NAME] (the "Config " prefix is
//     optional since OMNeT++ 6); keys before the first header belong to
//     General. "extends = A, B" names one or more parents; the fallback
//     chain is OMNeT++'s C3 linearization, General last. A key in a section
//     earlier in the chain overrides a later one's.
//   - "key = value" lines; '#' starts a comment outside double quotes.
//   - Iteration variables ${name=...}, and unnamed ones ${...}, numbered
//     $0, $1, ... in the order found. A definition is a comma-separated list
//     (commas inside quotes or parentheses do not split; empty items are
//     skipped) of texts and ranges "A..B [step S]" (S may be negative;
//     values from A + k*S formatted like C's "%g"). Names are letters and
//     digits: ${my_var=1,2} is, as in OMNeT++, the unnamed list "my_var=1",
//     "2". A range bound or text may refer to another variable ($a or
//     ${a}): that variable becomes an outer loop, and an inner range left
//     empty skips the combination. ${name} alone refers to a variable.
//   - Every ${...} of every entry of every section in the chain is a
//     variable, even of an overridden key; defining one twice is an error.
//   - repeat = N adds $repetition = 0..N-1, the innermost loop. The first
//     variable found is the outermost loop; a run's number is its index in
//     the nested iteration.
//
// What it cannot evaluate it refuses with an *Error that names the file,
// line, config and feature and matches ErrUnsupported (errors.Is), never a
// guessed count: include, constraint, iteration-nesting-order, parallel
// iteration (${b=... ! a}), expressions in range bounds (1..2*$n),
// $repetition inside a definition, and continued lines. Only the program
// (opp_run -q runs) can list those configs' runs; the cluster asks it.
//
// Guarantees: errors name the file and line; no config expands to more than
// api.MaxRuns runs (such a config is an error, found without expanding it);
// ini files are capped at MaxIniBytes.
package sweep
