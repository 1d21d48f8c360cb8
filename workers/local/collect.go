package local

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// mtimeSlack is how much older than its process a result file may look:
// file times come from a coarse clock (and some filesystems keep whole
// seconds).
const mtimeSlack = time.Second

// safeName and safePath: the rules shared with the runner.
func safeName(name string) bool { return resultfiles.SafeName(name) }
func safePath(name string) bool { return resultfiles.SafePath(name) }

// collector finds the result files of finished runs and attributes each to
// the run that wrote it by what the file says, never by its name: a
// text result file (.sca, .vec, .vci) starts with its config and run
// number (attr configname, attr runnumber); a file without such a header
// belongs to a run if it is that run's redirected output (the run's
// cmdenv-output-file, by default <resultdir>/<config>-<vars>#<rep>.out) or
// shares the name, up to the extension, of one of the run's files.
// Batches running at the same time write into the same directories; a
// file names one run, and a run is in one batch at a time.
type collector struct {
	dir        string // the program's working directory (absolute)
	resultsDir string
	globs      []string // nil: the files are written in place, below resultsDir
	config     string

	mu      sync.Mutex
	headers map[string]cachedHeader
	// claimed are the files already attributed in place: a file is one
	// run's, so later batches need not look at them again.
	claimed map[string]bool
	// namedBy holds, by absolute path, the run whose header named the
	// file (its own path, or one of its output files) and credited, by
	// result name, the run the file was credited to (in this Execute or
	// in a record of a skipped run): a second run naming the same file
	// means that runs share it.
	// settling serializes the settling of runs (collect, records, counts)
	// across batches.
	settling sync.Mutex

	namedBy     map[string]int
	credited    map[string]int
	revokedRuns map[int]bool
}

func newCollector(dir, resultsDir string, globs []string, config string, skipped map[int]Record) *collector {
	c := &collector{dir: dir, resultsDir: resultsDir, globs: globs, config: config,
		namedBy: map[string]int{}, credited: map[string]int{}, revokedRuns: map[int]bool{}}
	for run, rec := range skipped {
		for _, f := range rec.Files {
			c.credited[f.Name] = run
		}
	}
	return c
}

type cachedHeader struct {
	size  int64
	mtime time.Time
	h     oppcli.Header
	ok    bool
}

type candidate struct {
	resultfiles.Found
	size  int64
	mtime time.Time
}

// collected is what collect found for a set of runs.
type collected struct {
	files map[int][]FileRecord
	// refused holds, by run, why files the run wrote are not credited to
	// it (several runs append to them).
	refused map[int][]string
	// nameless are files written meanwhile that nothing says a run of the
	// config wrote (no text header, named by no run's header, sharing no
	// name stem with a run's file): SQLite result files, files of another
	// program.
	nameless []string
	// revoked holds runs credited before (settled or skipped) that share a
	// file name with one of runs, and why: their file is no longer theirs.
	revoked map[int]string
}

// collect attributes the files written since since to runs, stores them
// (moved into resultsDir, or left in place) and returns them by run.
func (c *collector) collect(runs []int, since time.Time) (collected, error) {
	want := map[int]bool{}
	for _, r := range runs {
		want[r] = true
	}
	out := collected{files: map[int][]FileRecord{}, refused: map[int][]string{}, revoked: map[int]string{}}
	cands, err := c.candidates(since.Add(-mtimeSlack))
	if err != nil {
		return out, err
	}
	type named struct {
		run    int
		append string // the option that makes runs share the file
	}
	owner := map[string]int{}       // path -> run
	predicted := map[string]named{} // path a header names -> its run
	stems := map[string]int{}       // path without extension -> run
	runIDs := map[string]int{}      // run id -> run
	var headerless []candidate
	for _, f := range cands {
		h, ok := c.header(f)
		config, run, hasRun := h.Run()
		if !ok || !hasRun {
			headerless = append(headerless, f)
			continue
		}
		if config != c.config {
			continue // another config's
		}
		for _, p := range h.OutputFiles() {
			opt, _ := h.Appends(p, c.dir)
			predicted[c.abs(p)] = named{run, opt}
		}
		if opt, appends := h.Appends(f.Path, c.dir); appends {
			// Every run whose block the file holds wrote into it.
			for _, ref := range c.runsIn(f.Path) {
				if ref.Config == c.config && want[ref.Run] {
					out.refused[ref.Run] = append(out.refused[ref.Run], sharedFile(f.Name, opt))
				}
			}
			continue
		}
		if !want[run] {
			continue // a run of another batch
		}
		c.name(append([]string{f.Path}, absAll(c, h.OutputFiles())...), run, &out)
		owner[f.Path] = run
		runIDs[h.RunID] = run
		stems[strings.TrimSuffix(f.Path, filepath.Ext(f.Path))] = run
	}
	for _, f := range headerless {
		if n, ok := predicted[f.Path]; ok {
			switch {
			case !want[n.run]:
			case n.append != "":
				out.refused[n.run] = append(out.refused[n.run], sharedFile(f.Name, n.append))
			case c.unfinishedResultFile(f):
				// A text result file still without its run line is being
				// written, by a later run when runs share its name.
			default:
				owner[f.Path] = n.run
			}
			continue
		}
		if id, ok := c.eventlogRunID(f); ok {
			if run, ok := runIDs[id]; ok {
				owner[f.Path] = run
			}
			continue
		}
		if run, ok := stems[strings.TrimSuffix(f.Path, filepath.Ext(f.Path))]; ok {
			owner[f.Path] = run
			continue
		}
		out.nameless = append(out.nameless, f.Name)
	}
	c.mu.Lock()
	for _, f := range cands {
		if run, ok := owner[f.Path]; ok {
			if prev, ok := c.credited[f.Name]; ok && prev != run {
				c.conflict(f.Name, prev, run, &out)
			}
		}
	}
	c.mu.Unlock()
	for run, msg := range out.revoked {
		if want[run] { // not credited yet: refused instead
			out.refused[run] = append(out.refused[run], msg)
			delete(out.revoked, run)
		}
	}
	for _, f := range cands {
		run, ok := owner[f.Path]
		if !ok || len(out.refused[run]) > 0 {
			continue
		}
		if !safePath(f.Name) {
			return out, fmt.Errorf("refusing result file name %q (run %d)", f.Name, run)
		}
		sum, err := fileSHA256(f.Path)
		if err != nil {
			return out, err
		}
		if c.globs != nil {
			if err := moveInto(f.Path, filepath.Join(c.resultsDir, filepath.FromSlash(f.Name)), f.mtime); err != nil {
				return out, fmt.Errorf("store result %s: %w", f.Name, err)
			}
		} else {
			c.claim(f.Path)
		}
		out.files[run] = append(out.files[run], FileRecord{Name: f.Name, Size: f.size, SHA256: sum})
		c.mu.Lock()
		c.credited[f.Name] = run
		c.mu.Unlock()
	}
	return out, nil
}

// name notes that run's header names paths; a path another run's header
// named is a file the two share.
func (c *collector) name(paths []string, run int, out *collected) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range paths {
		if prev, ok := c.namedBy[p]; ok && prev != run {
			c.conflict(c.display(p), prev, run, out)
			continue
		}
		c.namedBy[p] = run
	}
}

// conflict refuses run's claim to a file that prev's header named or that
// was credited to prev, and revokes prev's: the runs overwrite each
// other's file, so neither run's results are all there. Callers hold mu.
func (c *collector) conflict(name string, prev, run int, out *collected) {
	msg := fmt.Sprintf("%s is written by run %d and by run %d of %s: simswarm credits each file to exactly one run and refuses it (give each run a file name of its own, e.g. with ${runnumber})", name, min(prev, run), max(prev, run), c.config)
	if !slices.Contains(out.refused[run], msg) {
		out.refused[run] = append(out.refused[run], msg)
	}
	if _, done := c.revokedRuns[prev]; !done {
		c.revokedRuns[prev] = true
		out.revoked[prev] = msg
	}
}

// display is a path as the user knows it: below the results directory or
// the working directory when it is there.
func (c *collector) display(p string) string {
	for _, base := range []string{c.resultsDir, c.dir} {
		if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
	}
	return p
}

func absAll(c *collector, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = c.abs(p)
	}
	return out
}

// sharedFile says why a file that runs append to is credited to none.
func sharedFile(name, option string) string {
	return fmt.Sprintf("%s is written with %s = true, so several runs may share it; simswarm credits each file to exactly one run and refuses this one (give each run its own file, or leave the option false)", name, option)
}

// abs is a path the program names (relative to its working directory)
// as an absolute path.
func (c *collector) abs(p string) string {
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.dir, p)
}

// runsIn lists the runs whose blocks a text result file holds.
func (c *collector) runsIn(path string) []oppcli.RunRef {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return oppcli.ReadRuns(f)
}

// unfinishedResultFile reports whether f is empty or starts like a text
// result file (which would have a header, had it been written whole).
func (c *collector) unfinishedResultFile(f candidate) bool {
	fh, err := os.Open(f.Path)
	if err != nil {
		return true
	}
	defer fh.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(fh, head)
	head = head[:n]
	return n == 0 || bytes.HasPrefix(head, []byte("version ")) || bytes.HasPrefix(head, []byte("file ")) || bytes.HasPrefix(head, []byte("run "))
}

// eventlogRunID is the run id an event log names, if f is one.
func (c *collector) eventlogRunID(f candidate) (string, bool) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return "", false
	}
	defer fh.Close()
	return oppcli.EventlogRunID(fh)
}

// candidates lists the regular files that may be results, modified at or
// after since.
func (c *collector) candidates(since time.Time) ([]candidate, error) {
	var found []resultfiles.Found
	if c.globs != nil {
		var err error
		if found, err = resultfiles.MatchTree(c.dir, c.globs); err != nil {
			return nil, err
		}
	} else {
		err := filepath.WalkDir(c.resultsDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() && d.Name() == ".simswarm" && filepath.Dir(p) == c.resultsDir {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				rel, err := filepath.Rel(c.resultsDir, p)
				if err != nil {
					return err
				}
				found = append(found, resultfiles.Found{Path: p, Name: filepath.ToSlash(rel)})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list results in %s: %w", c.resultsDir, err)
		}
	}
	c.mu.Lock()
	unclaimed := found[:0]
	for _, f := range found {
		if !c.claimed[f.Path] {
			unclaimed = append(unclaimed, f)
		}
	}
	c.mu.Unlock()
	out := make([]candidate, 0, len(unclaimed))
	for _, f := range unclaimed {
		st, err := os.Lstat(f.Path)
		if err != nil || !st.Mode().IsRegular() || st.ModTime().Before(since) {
			continue
		}
		out = append(out, candidate{Found: f, size: st.Size(), mtime: st.ModTime()})
	}
	return out, nil
}

// header reads a file's result-file header, remembering it while the file
// keeps its size and time (a directory of results is listed per batch).
func (c *collector) header(f candidate) (oppcli.Header, bool) {
	c.mu.Lock()
	if ch, ok := c.headers[f.Path]; ok && ch.size == f.size && ch.mtime.Equal(f.mtime) {
		c.mu.Unlock()
		return ch.h, ch.ok
	}
	c.mu.Unlock()
	var h oppcli.Header
	ok := false
	if fh, err := os.Open(f.Path); err == nil {
		h, ok = oppcli.ReadHeader(fh)
		fh.Close()
	}
	c.mu.Lock()
	if c.headers == nil {
		c.headers = map[string]cachedHeader{}
	}
	c.headers[f.Path] = cachedHeader{size: f.size, mtime: f.mtime, h: h, ok: ok}
	c.mu.Unlock()
	return h, ok
}

// moveInto renames src to dst (creating dst's directory), copying across
// filesystems; the modification time is kept, since a .vci records its
// .vec's.
func moveInto(src, dst string, mtime time.Time) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	err := os.Rename(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".simswarm-tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

// where says where the collector looks for result files.
func (c *collector) where() string {
	if c.globs == nil {
		return c.resultsDir
	}
	return strings.Join(c.globs, ", ") + " in " + c.dir
}

func (c *collector) claim(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimed == nil {
		c.claimed = map[string]bool{}
	}
	c.claimed[path] = true
}
