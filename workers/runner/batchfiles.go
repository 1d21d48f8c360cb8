package runner

import (
	"fmt"
	"sort"

	"github.com/simswarm/simswarm/workers/resultfiles"
)

// attribute finds the result files (globs relative to progDir, created in
// the process's own tree runDir: resultfiles.MatchCreated) of the runs a
// batch process finished and attributes each to the run that wrote it by
// what it says, never by its name: resultfiles.Attribute, the local
// executor's rules. unsure lists what keeps the batch from telling whose
// every file is: files no rule attributes (of the simulation's own making,
// SQLite result files, another config's), files several runs append to,
// and files that several runs' headers name (each run replacing the one
// before's). With any of them the runs go again one process each, whose
// trees tell. A process of one run (single) owns every file.
func attribute(runDir, progDir string, globs []string, config string, finished []int, single bool) (byRun map[int][]resultfiles.Found, unsure []string, err error) {
	found, err := resultfiles.MatchCreated(runDir, progDir, globs)
	if err != nil {
		return nil, nil, err
	}
	byRun = map[int][]resultfiles.Found{}
	if single {
		if len(finished) == 1 {
			byRun[finished[0]] = found
		}
		return byRun, nil, nil
	}
	a := resultfiles.Attribute(found, resultfiles.ReadHeader, progDir, config, finished)
	for _, f := range a.Nameless {
		unsure = append(unsure, f.Name)
	}
	for _, f := range a.Foreign {
		unsure = append(unsure, f.Name+" (another config's)")
	}
	for _, msgs := range a.Refused {
		unsure = append(unsure, msgs...)
	}
	for p, runs := range a.Shared {
		unsure = append(unsure, fmt.Sprintf("%s is named by runs %v", p, runs))
	}
	if len(unsure) > 0 {
		sort.Strings(unsure)
		return nil, unsure, nil
	}
	for _, f := range found {
		if run, ok := a.Owner[f.Path]; ok {
			byRun[run] = append(byRun[run], f)
		}
	}
	return byRun, nil, nil
}
