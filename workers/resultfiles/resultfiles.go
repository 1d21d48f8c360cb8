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
