// Package scafile reads OMNeT++ scalar result files (.sca, the text format
// of OMNeT++ 5 and 6: "version 2" and "version 3"): the runs a file holds,
// each with its attributes, iteration variables, configuration entries,
// parameters, scalars and statistics (their fields and histogram bins).
//
//	f, err := scafile.Parse(r, scafile.Limits{}) // zero Limits: the defaults
//	for _, run := range f.Runs {
//		for _, s := range run.Scalars { ... s.Module, s.Name, s.Value ... }
//	}
//
// The grammar follows OMNeT++'s own writer (src/common/
// omnetppscalarfilewriter.cc) and reader (src/scave/
// omnetppresultfileloader.cc, src/common/linetokenizer.cc): one record per
// line, tokens separated by spaces or tabs, a token in double quotes may
// hold spaces and the escapes \b \f \n \r \t \" \\ and \xHH. Tokenize is that
// tokenizer, for other readers of the same syntax (result-file headers). Numbers are
// C doubles as printf's %g writes them, with inf, -inf, nan and -nan (and
// MSVC's 1.#INF, 1.#IND) as OMNeT++ accepts them. "attr" lines belong to
// the run or to the item (par, scalar, statistic) they follow; "field" and
// "bin" lines to the statistic they follow.
//
// Guarantees:
//   - Parse never panics, whatever the input; it returns an error naming
//     the line at fault for a malformed record of a known type (wrong
//     number of tokens, a bad number, an unmatched quote, a record out of
//     place), for binary content (a NUL byte or invalid UTF-8), for a line
//     longer than Limits.MaxLine and for input beyond Limits.MaxBytes or
//     with more items than Limits.MaxItems.
//   - A record of a type it does not know (e.g. "vector" lines, vector
//     data, a future record type) is not an error: it is skipped and
//     reported in File.Skipped (the first MaxSkipped of them, then a
//     count), so a newer writer's file still gives its scalars.
//   - Memory stays bounded: a line is never buffered beyond MaxLine, and
//     what a File holds is bounded by the bytes read (MaxBytes) and the
//     item count (MaxItems).
//   - Write produces text that Parse reads back to an equal File (for
//     values that are not NaN), quoting like OMNeT++'s opp_quotestr.
package scafile
