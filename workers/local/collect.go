package local

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/workers/resultfiles"
)

// safeName and matchResults: the rules shared with the runner.
func safeName(name string) bool { return resultfiles.SafeName(name) }

func matchResults(runDir string, globs []string) ([]string, error) {
	return resultfiles.Match(runDir, globs)
}

// runNumberInName finds OMNeT++'s "#<run>" marker in a result file name.
var runNumberInName = regexp.MustCompile(`#(\d+)\.[A-Za-z0-9]+$`)

// collect moves the files of a successful batch into resultsDir and returns
// them grouped by run: a file is attributed to the run whose "#N" its name
// carries, else to the batch's first run.
func collect(runDir, resultsDir string, globs []string, batch []int) (map[int][]FileRecord, error) {
	paths, err := matchResults(runDir, globs)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("the run produced no result files matching %s", strings.Join(globs, ", "))
	}
	inBatch := map[int]bool{}
	for _, r := range batch {
		inBatch[r] = true
	}
	byRun := map[int][]FileRecord{}
	for _, p := range paths {
		name := filepath.Base(p)
		if !safeName(name) {
			return nil, fmt.Errorf("refusing result file name %q", name)
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, err
		}
		// The file is complete (the run exited 0); rename makes it appear
		// under its final name atomically.
		if err := os.Rename(p, filepath.Join(resultsDir, name)); err != nil {
			return nil, fmt.Errorf("store result %s: %w", name, err)
		}
		run := batch[0]
		if m := runNumberInName.FindStringSubmatch(name); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && inBatch[n] {
				run = n
			}
		}
		byRun[run] = append(byRun[run], FileRecord{Name: name, Size: st.Size(), SHA256: sum})
	}
	return byRun, nil
}
