// Package resultindex turns a run's .sca files into one index document
// per run (collection resultindex): the run's campaign, uid and number,
// its iteration variables and repetition, and every scalar and statistic
// field as a (module, name, value) triple, so that tables of results by
// iteration variable need no result file to be read again.
//
//	doc := resultindex.Build(resultindex.Run{Campaign: c, UID: u, Run: 3, Attempt: 1}, scaPaths)
//	// doc.Summary() goes on the run record; the doc into the collection:
//	err := resultindex.Insert(ctx, db, []*resultindex.Doc{doc})
//
// A statistic's fields are named as opp_scavetool's --add-fields-as-scalars
// names them: "<statistic>:<field>" (e.g. "collisionLength:histogram:mean").
//
// Why one document per run: on FerretDB's SQLite backend every query but
// one by _id scans its collection and every document is a JSON row, so a
// document per value (thousands per INET run) would multiply both the
// insert cost in the runner's group commit and the scan cost of a table;
// per run, a table of a campaign is one scan of one document per run. The
// values are one packed binary field (type Values), not an array of
// documents: FerretDB's cost of reading a document grows with its BSON
// elements, and the array made a scan of 100,000 runs take 140 s. The
// _id is the run's (schema.RunID), so an insert repeated after a crash is a
// duplicate, not a second copy; the {uid} and {campaign, uid} indexes
// serve MongoDB (FerretDB scans anyway).
//
// Compaction: the runners write one document per run (cheap, in their
// group commit), and about one Insert in compactEvery then folds a
// campaign object's run documents, once there are CompactMin, into
// segments (collection resultsegments, SegmentRuns runs or about 8 MB
// each): the values by column, each (module, name) once, so that a table
// of one scalar skips the other columns, and FerretDB reads one row per
// segment instead of one per run (BenchmarkResultTableFromIndex in
// controller/store: 100,000 runs). Compaction writes small segments
// (collection resultsmallsegments) of the runs it finds, about CompactMin
// with the runners' small commits; once a campaign object has MergeMin of
// them, Merge (called by Compact) folds them into segments of about
// SegmentRuns runs (collection resultsegments), so a campaign object has
// fewer than MergeMin small segments and one per about SegmentRuns runs.
// Scan reads all three, in the order a run moves through them (run
// documents, small segments, merged segments), each run once.
//
// Guarantees:
//   - Build never fails and never panics: a file that cannot be read or
//     parsed (package scafile, with its limits) is named with the reason
//     in Doc.Error, together with the values of the files that could be;
//     records of unknown types are counted in Doc.Skipped.
//   - A document holds at most MaxValues values (far below MongoDB's 16 MB
//     document limit); beyond that it says so in Doc.Error.
//   - Insert treats a document already there (same _id) as written.
//   - Compaction changes no table: a segment gives back every run's
//     fields and values bit for bit (duplicates and NaN included; only
//     the order of a run's values changes); a run in two places (a crash
//     between writing a segment and removing its run documents, two
//     compactions at once) is read once; a compaction that fails leaves
//     the run documents where they were. A damaged segment is an error
//     naming it, never a panic.
//   - Merging changes no table either, and a crash between any two of its
//     writes (merged segments first, then each small one's removal) loses
//     no run and counts none twice (TestMergeInterruptedAnywhere...).
package resultindex
