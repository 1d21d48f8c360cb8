// Package resultfiles finds the result files a simulation run left behind
// and decides which names may be stored: the one rule the local executor,
// the runner and `results pull` share.
//
// A campaign's result globs (default results/*.sca, results/*.vec,
// results/*.vci, results/*.out) are relative to the run's working
// directory, where "results/" is the run's result directory.
//
// MatchCreated lists what a run created in a tree of its own, following no
// link; Attribute says which run of a batch each file belongs to, by the
// file's header (configname, runnumber) or, for a headerless .out, by the
// output file the run's header names.
//
// Guarantees: Match and MatchTree return only regular files (never
// symlinks or directories) in a stable order; MatchTree names each file by
// its path below the glob's leading directories without wildcards, so that
// files written into subdirectories keep their relative paths; SafeName
// accepts only plain base names and SafePath only relative paths of such
// names, neither of which can escape a directory.
package resultfiles
