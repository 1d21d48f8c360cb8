package resultfiles

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
)

// MatchCreated lists the regular files below root that match globs, where
// the globs are relative to cwd (a directory at or below root), each named
// as MatchTree names it (below the glob's leading directories without
// wildcards). Unlike MatchTree it never follows a link, not even to a
// directory: only files that really sit in root's tree count, so a run
// directory whose inputs are links into a shared cache (see the runner)
// yields what the run wrote and nothing of the cache.
func MatchCreated(root, cwd string, globs []string) ([]Found, error) {
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("result glob %q: %w", g, err)
		}
	}
	var files []Found
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone while listed
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil // directories are walked, links and devices never
		}
		rel, err := filepath.Rel(cwd, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		for _, g := range globs {
			if ok, _ := path.Match(g, rel); !ok {
				continue
			}
			name := rel
			if dir := filepath.ToSlash(globDir(g)); dir != "" && dir != "." {
				name = rel[len(dir)+1:]
			}
			files = append(files, Found{Path: p, Name: name})
			break
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list results below %s: %w", root, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}
