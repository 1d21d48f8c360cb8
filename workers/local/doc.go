// Package local is simswarm's embedded single-machine executor: what
// `simswarm run -f campaign.yaml` and `simswarm runall PROGRAM ARGS` do
// without any cluster.
//
// Prepare copies (or clones) a Campaign's source into a work directory,
// builds it and asks the program for its runs and their configuration
// (Resolve: ARGS -s -q rundetails and ARGS -s -r 0 -q runconfig, at once,
// which name each run by its identity); Execute runs them in
// batches of runs per process (exactly Plan.BatchSize, as opp_runall -b;
// by default opp_runall's size while much is left, then smaller towards
// the end of the sweep so that the slots finish together) on N parallel
// slots with their timeout and retries (a
// slot is held while a process runs; collecting its last run's files does
// not keep the slot's next process from starting):
//
//	plan, err := local.Prepare(ctx, campaign, manifestDir, local.PrepareOptions{WorkDir: ".simswarm/work/aloha"})
//	sum, err := local.Execute(ctx, plan, local.Options{ResultsDir: "results", Jobs: 8})
//
// Each process is started as opp_runall starts it (the user's arguments,
// -s -u Cmdenv --cmdenv-redirect-output=true -r BATCH), so the program
// writes the files opp_runall's would, with the same content: simswarm
// forces no result directory. A Campaign's files are then moved from the
// work directory into the results directory; runall's stay where the
// program wrote them (its result-dir).
//
// Guarantees:
//   - Files are attributed to runs by what they say, never by their names:
//     a result file's header names its config and run number; a file
//     without one is the run's if the run's header names it (its
//     cmdenv-output-file, eventlog-file, output-vector-file, ... with the
//     run's variables substituted), if it is an event log naming the run's
//     id, or if it shares a name stem with one of the run's files.
//     Collecting a run looks at the files created, closed after writing or
//     moved below the results directory since the last collect (runall
//     hears of them through inotify, which hears a file's writes only
//     while collect reads it, not every write of the simulations; where it
//     cannot, or events were lost, it lists the whole directory): its cost
//     follows what the runs write, not how many files the sweep has left.
//     A file
//     written with output-scalar-file-append or output-vector-file-append
//     may hold several runs: it is credited to none, and the runs that wrote
//     it fail saying so. Likewise a file name that two runs' headers name
//     (output-scalar-file = ${resultdir}/${configname}.sca): both runs fail,
//     the one that counted as done before too (its record is revoked), and
//     none is retried, since another attempt would share the file again.
//     What a run is credited with is exactly what was delivered: a file is
//     moved first and its header, size and digest are read from the moved
//     file itself, since the program goes on with its next run meanwhile;
//     runall's, left in place, are read once from one open descriptor
//     (the header from the first bytes the digest takes in), and read
//     afresh if anything was heard of the file between that reading's
//     start and its end (or nothing can be heard); a file that a later run of the same name
//     replaced or removed since it was attributed is not the run's, and
//     the runs conflict as above. A run that left no file of its own fails, naming the
//     files written meanwhile that say no run (SQLite result files). Only
//     files written since the batch started count. Paths below the result
//     directory are kept; runall looks below the directory that every run's
//     result-dir shares (results, for results/${configname}/${runnumber}).
//     A file already in place when Execute starts is no candidate while it
//     stays as it is: its header names the run number it was written
//     under, which may now be another run's.
//   - Each run of a batch is kept or reported on its own: a run counts as
//     finished when Cmdenv announces the next one or exits 0; when a run
//     fails, the finished ones are recorded, the failed one is retried or
//     reported with the program's own "<!> Error" line, and the runs after
//     it run again in a new process without losing an attempt. A finished
//     run that left no result file of its own is a failure.
//   - A run counts as complete only through a completion record of its
//     identity (Plan.Identities: the program's, its libraries' and the NED
//     path's content, the arguments, the config, the run's iteration
//     variables and resolved configuration but repeat, and the content of
//     the data files its configuration or NED files name: readFile,
//     xmldoc, readXML, a string naming a file; runidentity), which
//     holds every file's size and content digest (xxHash64: a check
//     against damage, far cheaper than sha256 on every byte a sweep
//     writes); on the next Execute a run is skipped only if a record of
//     its identity exists, no other run of the
//     plan took it, and every file still matches it, whatever run number
//     made it (growing repeat moves the numbers). A run whose resolved
//     configuration changed (an edited ini entry it sees, an edited .ned,
//     an edited XML file it reads, another program), and deleted or
//     truncated results, are redone; Force redoes everything. Records are lines appended to one journal
//     per campaign (DIR/.simswarm/runs/NAME.jsonl, ReadRecords reads it),
//     never synced (nor are the result files, as with opp_runall): after
//     a crash that loses data, the digest check costs a rerun, never a
//     wrong skip.
//   - Execute starts no process once a file that every process reads as
//     it starts changed since the identities were computed from it
//     (Plan.Inputs: the program, its -l libraries and the data files the
//     runs name by their metadata, the ini files by their content): the
//     runs not started fail, saying
//     which file changed, since they would simulate something other than
//     their identities say; the next Execute resumes by the new ones.
//   - One Execute at a time per results directory, across processes: a
//     second waits for the first (flock on DIR/.simswarm/lock, saying so
//     on Progress), then skips what the first completed; two sweeps
//     writing the same files at once would leave files holding two copies
//     of a run, each credited by both.
//   - Cancelling ctx (Ctrl-C) kills every running simulation's process
//     group and records nothing for the runs it interrupted.
//   - Result file names are slash paths of safe names below the results
//     directory; anything that could escape it is refused. simswarm's own
//     files there (DIR/.simswarm: journals, lock) are opened without
//     following links: a results directory from elsewhere with a link, a
//     FIFO or another file type in their place is refused, naming it.
package local
