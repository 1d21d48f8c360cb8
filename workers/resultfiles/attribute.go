package resultfiles

import (
	"path/filepath"
	"strings"

	"github.com/simswarm/simswarm/workers/oppcli"
)

// HeaderFunc reads the result-file header of a found file (ok false when
// the file has none: not a text result file).
type HeaderFunc func(Found) (oppcli.Header, bool)

// ReadHeader is the HeaderFunc that reads the file each time.
func ReadHeader(f Found) (oppcli.Header, bool) {
	return oppcli.ReadFileHeader(f.Path)
}

// Attribute says which of runs of config each file belongs to, by what the
// files say and never by their names: a text result file (.sca, .vec,
// .vci) names its config and run number in its header (attr configname,
// attr runnumber); a file without such a header belongs to a run if it is
// that run's redirected output (the run's cmdenv-output-file, by default
// <resultdir>/<config>-<vars>#<rep>.out, relative to dir, the program's
// working directory) or shares the name, up to the extension, of one of
// the run's files. Files of other configs or runs, and headerless files
// that match no run, are left out.
func Attribute(files []Found, header HeaderFunc, dir, config string, runs []int) map[string]int {
	want := map[int]bool{}
	for _, r := range runs {
		want[r] = true
	}
	owner := map[string]int{} // path -> run
	outs := map[string]int{}  // predicted .out path -> run
	stems := map[string]int{} // path without extension -> run
	var headerless []Found
	for _, f := range files {
		h, ok := header(f)
		cfg, run, hasRun := h.Run()
		if !ok || !hasRun {
			headerless = append(headerless, f)
			continue
		}
		if cfg != config || !want[run] {
			continue // another config's, or a run of another batch
		}
		owner[f.Path] = run
		stems[strings.TrimSuffix(f.Path, filepath.Ext(f.Path))] = run
		if out, ok := h.OutFile(); ok {
			outs[filepath.Join(dir, filepath.FromSlash(out))] = run
		}
	}
	for _, f := range headerless {
		if run, ok := outs[f.Path]; ok {
			owner[f.Path] = run
		} else if run, ok := stems[strings.TrimSuffix(f.Path, filepath.Ext(f.Path))]; ok {
			owner[f.Path] = run
		}
	}
	return owner
}
