package local

import (
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/simswarm/simswarm/workers/oppcli"
)

// Stamps are what a few files looked like (size, modification time, inode)
// when a plan's identities were computed from them: the files every
// process of the sweep reads as it starts, so that one edited or rebuilt
// meanwhile would make the runs started after it simulate something other
// than what their identities, and so their completion records, say. Safe
// for concurrent use; a nil *Stamps sees no change.
type Stamps struct {
	mu    sync.Mutex
	files map[string]stamp
}

type stamp struct {
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
	// sum is the content's xxHash64 for a file checked by content (ini
	// files: an editor saving one unchanged is no change).
	sum       uint64
	byContent bool
}

// takeStamps stamps the program's files by their metadata (a no-op make
// leaves them as they are) and the ini files by their content too; a
// missing file is stamped missing, so that its appearing is a change.
func takeStamps(programFiles, iniFiles []string) *Stamps {
	s := &Stamps{files: map[string]stamp{}}
	for _, p := range programFiles {
		s.files[p] = stampOf(p, false)
	}
	for _, p := range iniFiles {
		s.files[p] = stampOf(p, true)
	}
	return s
}

// add stamps more files by their metadata (data files may be large).
func (s *Stamps) add(paths []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range paths {
		if _, ok := s.files[p]; !ok {
			s.files[p] = stampOf(p, false)
		}
	}
}

func stampOf(path string, byContent bool) stamp {
	st, err := os.Stat(path)
	if err != nil {
		return stamp{byContent: byContent}
	}
	s := stamp{exists: true, size: st.Size(), mtime: st.ModTime(), byContent: byContent}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.ino = sys.Ino
	}
	if byContent {
		data, err := os.ReadFile(path)
		if err != nil {
			return stamp{byContent: byContent}
		}
		s.sum = xxhash.Sum64(data)
	}
	return s
}

// Changed is the first file (by name) that changed since it was stamped,
// "" if none.
func (s *Stamps) Changed() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var changed []string
	for p, was := range s.files {
		now := stampOf(p, false)
		now.byContent, now.sum = was.byContent, was.sum
		if now == was {
			continue
		}
		if was.byContent {
			if now = stampOf(p, true); now.exists == was.exists && now.sum == was.sum {
				s.files[p] = now // saved unchanged
				continue
			}
		}
		changed = append(changed, p)
	}
	if len(changed) == 0 {
		return ""
	}
	return slices.Min(changed)
}

// programFiles are the program's files that a process of inv loads as it
// starts, as Resolve hashes them: the program file and each -l library
// (where opp_run looks for it). Resolve stamps them with the ini files
// (and their includes) and the data files the runs name; NED files are
// left out: stamping thousands of NED files before every batch would cost
// more than the batches of a short sweep.
func programFiles(inv oppcli.Invocation, dir string) []string {
	files := []string{inDir(dir, programFile(inv))}
	for _, lib := range optionValues(inv, 'l') {
		for _, p := range libraryFiles(lib) {
			files = append(files, inDir(dir, p))
		}
	}
	return files
}
