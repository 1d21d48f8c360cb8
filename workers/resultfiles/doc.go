// Package resultfiles finds the result files a simulation run left behind
// and decides which names may be stored: the one rule the local executor,
// the runner and `results pull` (controller/client) share. FileSHA256 is
// the one digest of a result file on disk, which records and listings
// carry and a pull verifies.
//
// A campaign's result globs (default results/*.sca, results/*.vec,
// results/*.vci, results/*.out) are relative to the run's working
// directory, where "results/" is the run's result directory.
//
// MatchCreated lists what a run created in a tree of its own, following no
// link; Attribute says which run of a batch each file belongs to, by what
// the files say and never by their names: the one attribution of both
// executors (the local executor's collector and the runner's batches).
// A file's own header (configname, runnumber) names its run; a headerless
// file is a run's if its header names it as an output file (the .out of
// its redirected output, output-scalar-file, eventlog-file, ...), if it
// is an event log naming the run's id, or if it shares a name stem with
// one of its files. What makes a file no one run's is reported, for each
// executor's own policy: files several runs append to (Refused), paths
// several runs' headers name (Shared), files of another config (Foreign)
// and files nothing names (Nameless).
//
// Guarantees: Match and MatchTree return only regular files (never
// symlinks or directories) in a stable order; MatchTree names each file by
// its path below the glob's leading directories without wildcards, so that
// files written into subdirectories keep their relative paths; SafeName
// accepts only plain base names and SafePath only relative paths of such
// names, neither of which can escape a directory: no empty, "." or ".."
// element, no slash at either end, no backslash or NUL, nothing under
// .simswarm (simswarm's own bookkeeping and temporary files), at most
// 255 bytes an element and 4096 in all.
package resultfiles
