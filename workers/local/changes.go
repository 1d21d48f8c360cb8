package local

// changeLog says which files below the results directory may have changed
// since it was last asked: collecting a run then looks at those, not at
// every file of a results directory that grows with the sweep (listing
// and stat-ing all of them for every run made a sweep's collecting grow
// with the square of its runs: 11 s of simswarm's CPU for 1,050 aloha
// runs, against 0.09 s for opp_runall's python and make).
type changeLog interface {
	// changed returns the paths of files created, written, moved or
	// removed since the last call (since the log began, on the first:
	// with the files of directories that appeared meanwhile), or false
	// when that is not known (events were lost): the caller lists
	// everything, from then on.
	changed() ([]string, bool)
	close() error
}
