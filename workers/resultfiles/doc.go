// Package resultfiles finds the result files a simulation run left behind
// and decides which names may be stored: the one rule the local executor,
// the runner and `results pull` share.
//
// A campaign's result globs (default results/*.sca, results/*.vec,
// results/*.vci) are relative to the run's working directory, where
// "results/" is the run's private result directory (--result-dir).
//
// Guarantees: Match returns only regular files (never symlinks or
// directories) in a stable order; SafeName accepts only plain base names
// that cannot escape a directory.
package resultfiles
