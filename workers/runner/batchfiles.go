package runner

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// attribute finds the result files (globs relative to progDir, created in
// the process's own tree runDir: resultfiles.MatchCreated) of the runs a
// batch process finished and attributes each to the run that wrote it by
// what it says, never by its name, by the local executor's rules: a text
// result file (.sca, .vec, .vci) names its config and run number in its
// header; a file without one belongs to a run if it is that run's
// redirected output (the header's cmdenv-output-file, or OMNeT++'s default
// .out name; relative to the program's directory progDir) or shares the
// name, up to the extension, with one of the run's files. Files of runs
// that did not finish are left out. stray lists the files no rule
// attributes (of the simulation's own making, or SQLite result files):
// with them, the batch cannot say whose they are. A process of one run
// (single) owns every file.
func attribute(runDir, progDir string, globs []string, config string, finished []int, single bool) (byRun map[int][]resultfiles.Found, stray []string, err error) {
	found, err := resultfiles.MatchCreated(runDir, progDir, globs)
	if err != nil {
		return nil, nil, err
	}
	paths := make([]string, len(found))
	named := map[string]resultfiles.Found{}
	for i, f := range found {
		paths[i] = f.Path
		named[f.Path] = f
	}
	byRun = map[int][]resultfiles.Found{}
	if single {
		if len(finished) == 1 {
			byRun[finished[0]] = found
		}
		return byRun, nil, nil
	}
	want := map[int]bool{}
	for _, r := range finished {
		want[r] = true
	}
	owner := map[string]int{}
	outs := map[string]int{}  // predicted .out path -> run
	stems := map[string]int{} // path without extension -> run
	var headerless []string
	for _, p := range paths {
		h, ok := readHeader(p)
		cfg, run, hasRun := h.Run()
		if !ok || !hasRun {
			headerless = append(headerless, p)
			continue
		}
		if cfg != config {
			stray = append(stray, p) // not this config's: cannot be any run of the batch
			continue
		}
		owner[p] = run
		stems[strings.TrimSuffix(p, filepath.Ext(p))] = run
		if out, ok := h.OutFile(); ok {
			if !filepath.IsAbs(out) {
				out = filepath.Join(progDir, filepath.FromSlash(out))
			}
			outs[filepath.Clean(out)] = run
		}
	}
	for _, p := range headerless {
		if run, ok := outs[filepath.Clean(p)]; ok {
			owner[p] = run
		} else if run, ok := stems[strings.TrimSuffix(p, filepath.Ext(p))]; ok {
			owner[p] = run
		} else {
			stray = append(stray, p)
		}
	}
	for _, p := range paths {
		if run, ok := owner[p]; ok && want[run] {
			byRun[run] = append(byRun[run], named[p])
		}
	}
	return byRun, stray, nil
}

func readHeader(path string) (oppcli.Header, bool) {
	f, err := os.Open(path)
	if err != nil {
		return oppcli.Header{}, false
	}
	defer f.Close()
	return oppcli.ReadHeader(f)
}
