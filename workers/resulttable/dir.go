package resulttable

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/scafile"
)

// FromDir reads every .sca file below dir (symlinks are not followed) into
// a table of the values f selects. A file that cannot be read or parsed is
// a Problem of the table, not an error; an unreadable dir is one.
func FromDir(dir string, f *Filter) (*Table, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			paths = append(paths, p) // reported below
			return nil
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".sca") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	sort.Strings(paths)
	b := NewBuilder(f)
	for _, p := range paths {
		if err := addFile(b, p); err != nil {
			rel, _ := filepath.Rel(dir, p)
			b.Problem(fmt.Sprintf("%s: %v", rel, err))
		}
	}
	return b.Table(), nil
}

func addFile(b *Builder, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	sca, err := scafile.Parse(fh, scafile.Limits{})
	if err != nil {
		return err
	}
	for _, r := range sca.Runs {
		// The same naming of values as the index's (statistic fields).
		d := &resultindex.Doc{}
		if err := d.AddFile(&scafile.File{Runs: []*scafile.Run{r}}); err != nil {
			return err
		}
		b.AddRun(d.Itervars, d.Values)
	}
	return nil
}
