package resultfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SafeName reports whether a simulation-chosen file name may be placed in
// a results directory: a plain base name that cannot escape it or hide
// among simswarm's own bookkeeping (.simswarm).
func SafeName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, "/\\\x00") &&
		!strings.HasPrefix(name, ".simswarm") && len(name) <= 255
}

// Match lists the regular files under runDir that match globs, sorted.
func Match(runDir string, globs []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(runDir, filepath.FromSlash(g)))
		if err != nil {
			return nil, fmt.Errorf("result glob %q: %w", g, err)
		}
		for _, m := range matches {
			st, err := os.Lstat(m)
			if err != nil || !st.Mode().IsRegular() || seen[m] {
				continue // symlinks and directories are never results
			}
			seen[m] = true
			files = append(files, m)
		}
	}
	sort.Strings(files)
	return files, nil
}

// SafePath reports whether a slash-separated relative path chosen by a
// simulation may be placed below a results directory: every element a
// SafeName (so nothing absolute, no "..", nothing under .simswarm).
func SafePath(name string) bool {
	if name == "" || len(name) > 4096 {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if !SafeName(part) {
			return false
		}
	}
	return true
}

// Found is a result file: its path, and its name below the directory part
// of the glob that matched it (results/*/*.sca matched
// results/Cfg/x=1.sca: Cfg/x=1.sca), as a slash path.
type Found struct {
	Path, Name string
}

// MatchTree lists the regular files under runDir that match globs, each
// with its name relative to the glob's leading directories without
// wildcards, so that files in subdirectories keep their relative paths.
func MatchTree(runDir string, globs []string) ([]Found, error) {
	seen := map[string]bool{}
	var files []Found
	for _, g := range globs {
		base := filepath.Join(runDir, globDir(g))
		matches, err := filepath.Glob(filepath.Join(runDir, filepath.FromSlash(g)))
		if err != nil {
			return nil, fmt.Errorf("result glob %q: %w", g, err)
		}
		for _, m := range matches {
			st, err := os.Lstat(m)
			if err != nil || !st.Mode().IsRegular() || seen[m] {
				continue // symlinks and directories are never results
			}
			rel, err := filepath.Rel(base, m)
			if err != nil {
				continue
			}
			seen[m] = true
			files = append(files, Found{Path: m, Name: filepath.ToSlash(rel)})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// globDir is the leading directories of a slash glob up to the first
// element with a wildcard, never including the last element.
func globDir(g string) string {
	parts := strings.Split(filepath.ToSlash(g), "/")
	n := 0
	for n < len(parts)-1 && !strings.ContainsAny(parts[n], `*?[\`) {
		n++
	}
	return filepath.FromSlash(strings.Join(parts[:n], "/"))
}
