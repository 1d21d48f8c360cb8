// Package runidentity names a simulation run by what determines its result,
// so that a run already done (by another campaign, or an earlier `runall`)
// can be recognised and its results reused instead of running it again.
//
// The program, not an ini parser of ours, says what a run is: `opp_run -c
// CFG -q runconfig` prints, for each run, its iteration variables
// ($repetition included) and its whole resolved configuration, with
// ${...} already substituted (seed-set = ${runnumber} prints as
// seed-set = 7). A run's identity is the SHA-256 of
//
//   - the build artifact's key (its content),
//   - the program's command line without what only selects runs, names the
//     ini files or sets up simswarm's own output (see NormalizeArgv),
//   - the directory the run starts in, relative to the artifact,
//   - the config name,
//   - the run's iteration variables as the program prints them, and
//   - its resolved configuration entries, in the program's order, except
//     `repeat`;
//   - the run number, if an entry still refers to ${runnumber} after
//     the program's substitution, or if no entry sets seed-set: its
//     default is ${runnumber}, so such a run is seeded by its number;
//   - and Run.Files, when the caller set it: a digest of the data files
//     the run's entries name, which the artifact key does not cover
//     (simswarm runall's key covers the program, its libraries and NED
//     files, not the files beside them).
//
// Neither the ini text nor the run number is hashed otherwise: growing
// `repeat` from 5 to 10 shifts the run numbers (repetition is the
// innermost loop) but leaves the identities of the first five repetitions
// of every point as they were, so only the new ones need to run; a comment
// or an unused section of the ini changes nothing; any change of a value a
// run sees changes its identity.
//
// OMNeT++ 6.1 answers `-q runconfig` for all runs in time quadratic in
// their number (hours for 100,000 runs), so a listing asks twice, both
// cheap: run 0's whole configuration (BaseArgv), which every run shares
// but for the entries holding iteration variables, and every run's
// variables with only those entries, substituted (DetailsArgv, `-q
// rundetails`). WithBase hashes the shared entries once; Of then hashes a
// run of the details:
//
//	base, _ := runidentity.Parse(run(runidentity.BaseArgv(program, "omnetpp.ini", cfg)))
//	id := runidentity.New(runidentity.Inputs{ArtifactKey: key, Argv: program,
//		WorkingDir: ".", Config: cfg})
//	sc := runidentity.NewScanner(run(runidentity.DetailsArgv(program, "omnetpp.ini", cfg, "")))
//	var idf *runidentity.Identifier
//	for sc.Scan() {
//		r := sc.Run()
//		if idf == nil {
//			idf = id.WithBase(base[0], r)
//		}
//		use(r.Number, r.Vars, idf.Of(r))
//	}
//	if err := sc.Err(); err != nil { ... }
//
// Of without WithBase takes a run's whole configuration (`-q runconfig`)
// and gives another identity than with it (the encodings are kept apart).
//
// The Scanner also reads `-q rundetails` and `-q runs` output (runs without entries), with or
// without the banner (-s).
//
// Guarantees:
//   - The Scanner streams: it holds one run at a time, so a million-run
//     listing never sits in memory whole. It never panics; it returns an
//     error naming the line for an entry outside a run, an entry that is
//     not "key = value", a run number not above the one before, a line
//     longer than MaxLine, and a listing whose run count disagrees with the
//     program's own "Number of runs" line.
//   - Of is a pure function of its inputs: the same run of the same build,
//     command line and config has the same identity in every process, on
//     every machine and in every version of this package that keeps
//     Version; inputs are length-prefixed, so no two different inputs
//     share an encoding.
//   - An input the identity does not cover must be covered by ArtifactKey:
//     the program, its libraries, NED and data files.
package runidentity
