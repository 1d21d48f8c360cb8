package local

// changeLog says which files below the results directory may have changed
// since it was last asked: collecting a run then looks at those, not at
// every file of a results directory that grows with the sweep (listing
// and stat-ing all of them for every run made a sweep's collecting grow
// with the square of its runs: 11 s of simswarm's CPU for 1,050 aloha
// runs, against 0.09 s for opp_runall's python and make).
//
// A file's writes are heard only while it is watched (watchWrites), not
// all the time: a file is looked at once its writer closed it, and the
// kernel would make an event for every write(2) of every simulation
// (about 1,200 per aloha run, each event made and merged at the writer's
// expense).
type changeLog interface {
	// changed returns the paths of files created, closed after writing,
	// changed in their attributes, moved or removed since the last call,
	// and of watched files written to (since the log began, on the first:
	// with the files of directories that appeared meanwhile), or false
	// when that is not known (events were lost): the caller lists
	// everything, from then on.
	changed() ([]string, bool)
	// watchWrites makes changed report path when the file now at path is
	// written to, until unwatch; false when it cannot.
	watchWrites(path string) (unwatch func(), ok bool)
	close() error
}
