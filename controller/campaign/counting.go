package campaign

// What a pass reads and writes of a big campaign's run records is paid,
// on FerretDB's SQLite backend, per record in the collection: a count by
// state decodes every record, and creating records holds the database's
// one writer. A campaign of a million runs must not pay either on every
// pass, or its passes (and so its dispatch) slow down with its size.

// recordLead is how many created, never dispatched run records a pass
// keeps ahead of the dispatch frontier. More than a window (at most
// 4,096), so that creating records never holds dispatch back.
const recordLead = 2 * createPerPass

// needRecords reports whether a pass should create more of the campaign's
// run records: while its frontier is unknown, or while fewer than
// recordLead created records lie ahead of it. Records are created as
// dispatch needs them, not all at once, so the passes of a million-run
// campaign stay short from its start.
func needRecords(s *campaignState, created int) bool {
	f := s.frontier
	return !f.known || f.rescan || created-f.next < recordLead
}

// mayBeFinished reports whether every run of the campaign (expanded runs,
// -1 while unknown) has been dispatched at least once, so that an empty
// queue may mean it has finished, which only a fresh count can tell. While
// the frontier shows runs never dispatched, an empty queue means dispatch
// is behind, not done: the cached counts do (they are refreshed by age,
// see countEntry).
func mayBeFinished(s *campaignState, expanded int) bool {
	f := s.frontier
	return !f.known || f.rescan || expanded < 0 || f.next >= expanded
}
