// Package runlist keeps, with each build, the runs its program says a
// campaign's config has: the builder asks the built program (`-q runs`,
// with the campaign's -r filter when it is an expression) and saves the
// answer here; the controller creates run records from it. The program,
// not an ini parser of ours, decides which runs exist, so constraints,
// includes and filter expressions such as '$numHosts>10' mean what OMNeT++
// means. A filter of run numbers ("0..9,20") shares the config's list and
// selects among it (api.RunFilter.Select), so that a number beyond the
// config is named, as OMNeT++ refuses it, instead of recorded.
//
//	q := runlist.QueryOf(c.Spec.Simulation)
//	id := runlist.ID(buildKey, q)
//	err := runlist.Save(ctx, db, id, buildKey, runs)   // builder
//	w, err := runlist.Create(ctx, db, id, buildKey)    // or, as the runs are listed:
//	w.Add(run) ...; err = w.Commit(ctx, why)           // (w.Abort() if the list is not whole)
//	rec, err := runlist.Get(ctx, db, id)               // controller
//	nums, err := runlist.Numbers(ctx, db, rec)
//
// A list may carry each run's identity (package runidentity; SaveIdentified,
// ReadIdentities), for the controller to reuse runs already done.
//
// Guarantees: a list is bounded in no document: the runs (a million is
// fine) are a GridFS file, gzipped (Record.Encoding; lists stored plain by
// older builders still read), the record holds its count and file id; a
// record is written only after its file is complete, so a reader never sees
// a partial list (a Writer, which stores a list while the program is still
// listing it, writes the record in Commit, after the last run; a Writer
// aborted or abandoned leaves no record); Numbers checks the file against the recorded count (a
// list the builder recorded Dense, 0..Count-1, it does not read), and
// stops at the first line beyond it; a
// query that failed is recorded with the program's message, so a campaign
// can fail with it instead of waiting.
package runlist
