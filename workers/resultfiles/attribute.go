package resultfiles

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
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

// Attribution is what Attribute found: whose each file is, and what makes
// files no one run's.
type Attribution struct {
	// Owner holds, by path, the run of runs each attributed file is.
	Owner map[string]int
	// Headed holds the attributed files whose own header names their run:
	// whoever stores them checks that the file it stores still says so
	// (a later run of the same process may replace a file of the same
	// name meanwhile).
	Headed map[string]bool
	// Named holds, by run of runs, the paths (absolute) that its headers
	// name: its files and the output files they say it writes. A path
	// that two runs name is a file they share, which neither may be
	// credited with (Shared, within this call).
	Named map[int][]string
	// Shared holds the paths that several runs of runs name, with them.
	Shared map[string][]int
	// Refused holds, by run of runs, why files it wrote are credited to
	// none: a file appended to (output-scalar-file-append,
	// output-vector-file-append) may hold several runs.
	Refused map[int][]string
	// Nameless are the files that nothing says a run of config wrote: no
	// text header, named by no run's header, no event log of a run,
	// sharing no name stem with a run's file (SQLite result files, files
	// of the model's own).
	Nameless []Found
	// Foreign are the files whose header names another config.
	Foreign []Found
}

// Attribute says which of runs of config each of files belongs to, by what
// the files say and never by their names:
//   - a text result file (.sca, .vec, .vci) names its config and run
//     number in its header (attr configname, attr runnumber);
//   - a file without one is a run's if that run's header names it (its
//     cmdenv-output-file, by default <resultdir>/<config>-<vars>#<rep>.out,
//     its output-scalar-file, output-vector-file, eventlog-file, ..., with
//     the run's variables substituted; relative to dir, the program's
//     working directory), if it is an event log naming the run's id, or if
//     it shares the name, up to the extension, with one of the run's
//     files;
//   - a file written with output-scalar-file-append or
//     output-vector-file-append may hold several runs: it is credited to
//     none, and every run of runs whose block it holds is Refused;
//   - a text result file still without its run line (empty, or cut short)
//     is being written and is credited to no one.
//
// Files of other runs of config are left out; what is left is Nameless
// or Foreign. header reads the files' headers (ReadHeader, or a cache).
func Attribute(files []Found, header HeaderFunc, dir, config string, runs []int) Attribution {
	want := map[int]bool{}
	for _, r := range runs {
		want[r] = true
	}
	a := Attribution{Owner: map[string]int{}, Headed: map[string]bool{}, Named: map[int][]string{},
		Shared: map[string][]int{}, Refused: map[int][]string{}}
	type named struct {
		run    int
		append string // the option that makes runs share the file
	}
	predicted := map[string]named{} // path a header names -> its run
	stems := map[string]int{}       // path without extension -> run
	runIDs := map[string]int{}      // run id -> run
	var headerless []Found
	for _, f := range files {
		h, ok := header(f)
		cfg, run, hasRun := h.Run()
		if !ok || !hasRun {
			headerless = append(headerless, f)
			continue
		}
		if cfg != config {
			a.Foreign = append(a.Foreign, f)
			continue
		}
		for _, p := range h.OutputFiles() {
			opt, _ := h.Appends(p, dir)
			predicted[abs(dir, p)] = named{run, opt}
		}
		if opt, appends := h.Appends(f.Path, dir); appends {
			// Every run whose block the file holds wrote into it.
			for _, ref := range runsIn(f.Path) {
				if ref.Config == config && want[ref.Run] {
					a.refuse(ref.Run, SharedFile(f.Name, opt))
				}
			}
			continue
		}
		runIDs[h.RunID] = run
		stems[strings.TrimSuffix(f.Path, filepath.Ext(f.Path))] = run
		if !want[run] {
			continue // a run of another batch
		}
		a.Owner[f.Path] = run
		a.Headed[f.Path] = true
		a.name(run, f.Path)
		for _, p := range h.OutputFiles() {
			a.name(run, abs(dir, p))
		}
	}
	for _, f := range headerless {
		if n, ok := predicted[f.Path]; ok {
			switch {
			case !want[n.run]:
			case n.append != "":
				a.refuse(n.run, SharedFile(f.Name, n.append))
			case unfinishedResultFile(f.Path):
				// A text result file still without its run line is being
				// written, by a later run when runs share its name.
			default:
				a.Owner[f.Path] = n.run
			}
			continue
		}
		if id, ok := eventlogRunID(f.Path); ok {
			if run, ok := runIDs[id]; ok && want[run] {
				a.Owner[f.Path] = run
			}
			continue
		}
		if run, ok := stems[strings.TrimSuffix(f.Path, filepath.Ext(f.Path))]; ok {
			if want[run] {
				a.Owner[f.Path] = run
			}
			continue
		}
		a.Nameless = append(a.Nameless, f)
	}
	for p, rs := range a.Shared {
		if len(rs) < 2 {
			delete(a.Shared, p)
		}
	}
	return a
}

// name notes that run's header names path.
func (a *Attribution) name(run int, path string) {
	if slices.Contains(a.Named[run], path) {
		return
	}
	a.Named[run] = append(a.Named[run], path)
	if !slices.Contains(a.Shared[path], run) {
		a.Shared[path] = append(a.Shared[path], run)
		sort.Ints(a.Shared[path])
	}
}

func (a *Attribution) refuse(run int, msg string) {
	if !slices.Contains(a.Refused[run], msg) {
		a.Refused[run] = append(a.Refused[run], msg)
	}
}

// SharedFile says why a file that runs append to is credited to none.
func SharedFile(name, option string) string {
	return fmt.Sprintf("%s is written with %s = true, so several runs may share it; simswarm credits each file to exactly one run and refuses this one (give each run its own file, or leave the option false)", name, option)
}

// abs is a path the program names (relative to its working directory dir)
// as a clean absolute path.
func abs(dir, p string) string {
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// runsIn lists the runs whose blocks a text result file holds.
func runsIn(path string) []oppcli.RunRef {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return oppcli.ReadRuns(f)
}

// unfinishedResultFile reports whether the file is empty or starts like a
// text result file (which would have a header, had it been written whole).
func unfinishedResultFile(path string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return true
	}
	defer fh.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(fh, head)
	head = head[:n]
	return n == 0 || bytes.HasPrefix(head, []byte("version ")) || bytes.HasPrefix(head, []byte("file ")) || bytes.HasPrefix(head, []byte("run "))
}

// eventlogRunID is the run id an event log names, if the file is one.
func eventlogRunID(path string) (string, bool) {
	fh, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer fh.Close()
	return oppcli.EventlogRunID(fh)
}
