// Package local is simswarm's embedded single-machine executor: what
// `simswarm run -f campaign.yaml` and `simswarm runall -- program args`
// do without any cluster.
//
// Prepare copies (or clones) a Campaign's source into a work directory,
// builds it and asks the program for its run numbers; Execute runs them on
// N parallel slots with their timeout and retries and moves each run's
// result files into the results directory:
//
//	plan, err := local.Prepare(ctx, campaign, manifestDir, local.PrepareOptions{WorkDir: ".simswarm/work/aloha"})
//	sum, err := local.Execute(ctx, plan, local.Options{ResultsDir: "results", Jobs: 8})
//
// Guarantees:
//   - A result file appears under its final name only when complete: the
//     program writes into a private directory and files are renamed into
//     place after the run succeeded.
//   - A run counts as complete only through its completion record, which
//     holds every file's size and sha256; on the next Execute a run is
//     skipped only if the record exists and every file still matches it.
//     Deleted or truncated results are redone; Force redoes everything.
//     Records are lines appended to one journal per campaign
//     (DIR/.simswarm/runs/NAME.jsonl, ReadRecords reads it), synced once at
//     the end: after a crash that loses data, the digest check costs a
//     rerun, never a wrong skip.
//   - Cancelling ctx (Ctrl-C) kills every running simulation's process
//     group and records nothing for the runs it interrupted.
//   - Result file names are the base names the simulation chose; anything
//     that could escape the results directory is refused.
package local
