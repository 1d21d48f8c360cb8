package local

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// mtimeSlack is how much older than its process a result file may look:
// file times come from a coarse clock (and some filesystems keep whole
// seconds).
const mtimeSlack = time.Second

// collector finds the result files of finished runs and attributes each to
// the run that wrote it by what the file says, never by its name
// (resultfiles.Attribute, the rules the runner's batches follow too), and
// keeps what a campaign's batches learn across each other: which run's
// header named which file, which file is credited to which run, and the
// runs found sharing a file. Batches running at the same time write into
// the same directories; a file names one run, and a run is in one batch
// at a time.
type collector struct {
	dir        string // the program's working directory (absolute)
	resultsDir string
	globs      []string // nil: the files are written in place, below resultsDir
	config     string

	mu      sync.Mutex
	headers map[string]cachedHeader
	// claimed are the files already credited in place, by path: a file is
	// one run's, so later batches need not look at them again.
	claimed map[string]os.FileInfo
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
	// conflicted holds the runs found sharing a file with another run, and
	// why: whenever they are collected, they are refused.
	conflicted map[int]string

	// storing, when set (tests only), is called with a file's path after
	// it was attributed and before it is stored: the moment a later run
	// of the same process may replace it.
	storing func(path string)

	// changes, when set (watch), says which files below the results
	// directory changed since the last collect: those are added to dirty,
	// the files that may be candidates, and a file leaves dirty once it
	// is claimed or gone. Every other file is claimed and unchanged, so a
	// collect looks at what changed, not at every file of the sweep.
	// Nil: the results directory is listed every time.
	changes changeLog
	dirty   map[string]bool
	// heard holds the files heard of since the collect began (untouched).
	heard map[string]bool
	// looked counts the files a collect examined (tests).
	looked int
}

func newCollector(dir, resultsDir string, globs []string, config string, skipped map[int]Record) *collector {
	c := &collector{dir: dir, resultsDir: resultsDir, globs: globs, config: config,
		namedBy: map[string]int{}, credited: map[string]int{}, revokedRuns: map[int]bool{}, conflicted: map[int]string{}}
	for run, rec := range skipped {
		for _, f := range rec.Files {
			c.credited[f.Name] = run
		}
	}
	return c
}

// claimExisting makes every file now in the results directory no
// candidate while it stays as it is (in place only: a Campaign's files are
// collected from the work directory). Only files written since a batch
// started count, but file times are coarse (mtimeSlack), and a file left by
// an earlier sweep names the run number it had then, which may now be
// another run's (repeat grew, so the numbers moved): the file of point
// n=6's repetition 0 said run 2, which is now n=2's repetition 2. A file
// written in its place is one.
func (c *collector) claimExisting() error {
	if c.globs != nil {
		return nil
	}
	return c.walkResults(func(p, _ string) error {
		if st, err := os.Lstat(p); err == nil {
			c.claim(p, st)
		}
		return nil
	})
}

// watch makes the collector hear of changes below the results directory
// (in place only), so that collecting a run looks at the files changed
// since the last collect instead of listing the whole directory. Call it
// before claimExisting, so that no change after the claims goes unheard.
func (c *collector) watch() {
	if c.globs != nil {
		return
	}
	if err := os.MkdirAll(c.resultsDir, 0o755); err != nil {
		return
	}
	c.changes = watchChanges(c.resultsDir, filepath.Join(c.resultsDir, ".simswarm"))
	c.dirty = map[string]bool{}
}

// close stops hearing of changes.
func (c *collector) close() error {
	if c.changes == nil {
		return nil
	}
	err := c.changes.close()
	c.changes = nil
	return err
}

// changedFiles are the files that may be candidates, from what the change
// log heard (false: unknown, list everything).
func (c *collector) changedFiles() ([]resultfiles.Found, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changes == nil {
		return nil, false
	}
	paths, ok := c.changes.changed()
	if !ok {
		c.changes.close() //nolint:errcheck // nothing to do about it
		c.changes = nil
		return nil, false
	}
	for _, p := range paths {
		c.dirty[p] = true
	}
	clear(c.heard)
	found := make([]resultfiles.Found, 0, len(c.dirty))
	for p := range c.dirty {
		rel, err := filepath.Rel(c.resultsDir, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || strings.HasPrefix(rel, ".simswarm/") {
			delete(c.dirty, p)
			continue
		}
		found = append(found, resultfiles.Found{Path: p, Name: filepath.ToSlash(rel)})
	}
	// In the order a walk of the directory gives them.
	slices.SortFunc(found, func(a, b resultfiles.Found) int {
		return strings.Compare(strings.ReplaceAll(a.Name, "/", "\x00"), strings.ReplaceAll(b.Name, "/", "\x00"))
	})
	return found, true
}

// untouched reports whether nothing was heard of path since the collect
// began (changedFiles): a file read since is then what is at path now,
// whatever its size and time say (a later run may rewrite the file within
// one tick of the file clock). The events go to dirty as changedFiles's
// do; false when there is no hearing (the file is to be read afresh).
func (c *collector) untouched(path string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changes == nil {
		return false
	}
	paths, ok := c.changes.changed()
	if !ok {
		c.changes.close() //nolint:errcheck // nothing to do about it
		c.changes = nil
		return false
	}
	if c.heard == nil {
		c.heard = map[string]bool{}
	}
	for _, p := range paths {
		c.dirty[p] = true
		c.heard[p] = true
	}
	return !c.heard[path]
}

// settled notes that path needs no more looking at (claimed as it is, or
// gone), until it changes again.
func (c *collector) settled(path string) {
	if c.dirty != nil {
		delete(c.dirty, path)
	}
}

// walkResults calls fn with the path and slash name of every regular file
// below the results directory but simswarm's own (.simswarm); a directory
// that is not there holds none.
func (c *collector) walkResults(fn func(path, name string) error) error {
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
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(c.resultsDir, p)
		if err != nil {
			return err
		}
		return fn(p, filepath.ToSlash(rel))
	})
	if err != nil {
		return fmt.Errorf("list results in %s: %w", c.resultsDir, err)
	}
	return nil
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
	found := make([]resultfiles.Found, len(cands))
	byPath := make(map[string]candidate, len(cands))
	for i, f := range cands {
		found[i] = f.Found
		byPath[f.Path] = f
	}
	// In place, each file's header is read through the digest that
	// storing it finishes (one open, one reading of every byte); the
	// files not stored are let go once attributed.
	reads := map[string]*reading{}
	defer func() {
		for _, rd := range reads {
			rd.close()
			rd.unwatch()
		}
	}()
	a := resultfiles.Attribute(found, func(f resultfiles.Found) (oppcli.Header, bool) {
		return c.header(byPath[f.Path], reads)
	}, c.dir, c.config, runs)
	owner, headed := a.Owner, a.Headed
	for run, why := range a.Refused {
		out.refused[run] = append(out.refused[run], why...)
	}
	for _, run := range slices.Sorted(maps.Keys(a.Named)) {
		c.name(a.Named[run], run, &out)
	}
	for _, f := range a.Nameless {
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
	c.mu.Lock()
	c.refuseConflicted(want, &out)
	c.mu.Unlock()
	for _, f := range cands {
		run, ok := owner[f.Path]
		if !ok || len(out.refused[run]) > 0 {
			continue
		}
		if !resultfiles.SafePath(f.Name) {
			return out, fmt.Errorf("refusing result file name %q (run %d)", f.Name, run)
		}
		if c.storing != nil {
			c.storing(f.Path)
		}
		d, err := c.store(f, run, headed[f.Path], reads[f.Path])
		if errors.Is(err, errTaken) {
			c.mu.Lock()
			c.taken(f.Name, run, d, &out)
			c.mu.Unlock()
			continue
		}
		if err != nil {
			return out, fmt.Errorf("store result %s: %w", f.Name, err)
		}
		out.files[run] = append(out.files[run], FileRecord{Name: f.Name, Size: d.size, Digest: d.sum})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuseConflicted(want, &out)
	for run := range out.files {
		if len(out.refused[run]) > 0 {
			delete(out.files, run) // a file of it was taken while stored
			continue
		}
		for _, f := range out.files[run] {
			c.credited[f.Name] = run
		}
	}
	return out, nil
}

// refuseConflicted refuses the runs of want that a conflict involves
// (found in this collect or in an earlier one: a run that was to be retried
// when another run named its file is refused on its retry), and moves the
// revocations of runs of want to their refusals, since they are not
// credited yet. Callers hold mu.
func (c *collector) refuseConflicted(want map[int]bool, out *collected) {
	for run := range want {
		if msg, ok := c.conflicted[run]; ok && !slices.Contains(out.refused[run], msg) {
			out.refused[run] = append(out.refused[run], msg)
		}
	}
	for run := range out.revoked {
		if want[run] {
			delete(out.revoked, run)
		}
	}
}

// taken handles a file of run that another run replaced (or removed)
// between its attribution and its storing: a later run of the same
// process writing the same name. Run loses its file, and the two runs
// conflict as runs naming one file do; when the newcomer's file does not
// say yet whose it is, the newcomer conflicts when its file is collected,
// since run's header named the path. Callers hold mu.
func (c *collector) taken(name string, run int, d digest, out *collected) {
	if config, other, ok := d.h.Run(); d.headed && ok && config == c.config && other != run {
		c.conflict(name, other, run, out)
		return
	}
	c.refuse(run, fmt.Sprintf("%s was replaced by another run's file of the same name before simswarm could store it as run %d's of %s: simswarm credits each file to exactly one run and refuses it (give each run a file name of its own, e.g. with ${runnumber})", name, run, c.config), out)
}

// refuse refuses run's files for good. Callers hold mu.
func (c *collector) refuse(run int, msg string, out *collected) {
	if !slices.Contains(out.refused[run], msg) {
		out.refused[run] = append(out.refused[run], msg)
	}
	if _, ok := c.conflicted[run]; !ok {
		c.conflicted[run] = msg
	}
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
// was credited to prev, and revokes prev's (or refuses it when it is
// collected, if it is not credited yet): the runs overwrite each other's
// file, so neither run's results are all there. Callers hold mu.
func (c *collector) conflict(name string, prev, run int, out *collected) {
	msg := fmt.Sprintf("%s is written by run %d and by run %d of %s: simswarm credits each file to exactly one run and refuses it (give each run a file name of its own, e.g. with ${runnumber})", name, min(prev, run), max(prev, run), c.config)
	c.refuse(run, msg, out)
	if _, ok := c.conflicted[prev]; !ok {
		c.conflicted[prev] = msg
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

// candidates lists the regular files that may be results, modified at or
// after since.
func (c *collector) candidates(since time.Time) ([]candidate, error) {
	var found []resultfiles.Found
	heard := false
	if c.globs != nil {
		var err error
		if found, err = resultfiles.MatchTree(c.dir, c.globs); err != nil {
			return nil, err
		}
	} else if found, heard = c.changedFiles(); !heard {
		if err := c.walkResults(func(p, name string) error {
			found = append(found, resultfiles.Found{Path: p, Name: name})
			return nil
		}); err != nil {
			return nil, err
		}
	}
	out := make([]candidate, 0, len(found))
	for _, f := range found {
		c.looked++
		st, err := os.Lstat(f.Path)
		if err != nil || !st.Mode().IsRegular() || c.isClaimed(f.Path, st) {
			if heard {
				c.mu.Lock()
				c.settled(f.Path)
				c.mu.Unlock()
			}
			continue
		}
		if st.ModTime().Before(since) {
			continue // another batch's, maybe: it stays to be looked at
		}
		out = append(out, candidate{Found: f, size: st.Size(), mtime: st.ModTime()})
	}
	return out, nil
}

// header reads a file's result-file header, remembering it while the file
// keeps its size and time (a directory of results is listed per batch).
// In place, when the collector hears of changes, the file stays open in
// reads with the digest of the bytes the header was read from, for store
// to go on from.
func (c *collector) header(f candidate, reads map[string]*reading) (oppcli.Header, bool) {
	c.mu.Lock()
	if ch, ok := c.headers[f.Path]; ok && ch.size == f.size && ch.mtime.Equal(f.mtime) {
		c.mu.Unlock()
		return ch.h, ch.ok
	}
	hearing := c.changes != nil // else store reads the file afresh anyway
	c.mu.Unlock()
	var h oppcli.Header
	ok := false
	var rd *reading
	if c.globs == nil && hearing {
		rd = c.startReading(f.Path)
	}
	if rd != nil {
		reads[f.Path] = rd
		h, ok = rd.h, rd.headed
	} else {
		// Moved first (run), or its writes cannot be heard while read:
		// store reads the file afresh.
		h, ok = oppcli.ReadFileHeader(f.Path)
	}
	c.mu.Lock()
	if c.headers == nil {
		c.headers = map[string]cachedHeader{}
	}
	c.headers[f.Path] = cachedHeader{size: f.size, mtime: f.mtime, h: h, ok: ok}
	c.mu.Unlock()
	return h, ok
}

// startReading begins reading path in place (reading), its writes heard
// from before it is opened until the collect ends (untouched); nil when
// they cannot be heard or the file cannot be read.
func (c *collector) startReading(path string) *reading {
	c.mu.Lock()
	var stop func()
	ok := false
	if c.changes != nil {
		stop, ok = c.changes.watchWrites(path)
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	unwatch := func() { // the change log is the collector's, under mu
		c.mu.Lock()
		stop()
		c.mu.Unlock()
	}
	rd, err := startReading(path)
	if err != nil {
		unwatch()
		return nil
	}
	rd.unwatch = unwatch
	return rd
}

// errTaken says that a file was replaced or removed between its
// attribution and its storing.
var errTaken = errors.New("result file replaced while stored")

// digest is what one reading of a file found: its header (headed false
// when it has none) and the size and sha256 of the bytes read.
type digest struct {
	h      oppcli.Header
	headed bool
	size   int64
	sum    string
}

// names reports whether the file says it is run of config.
func (d digest) names(config string, run int) bool {
	cfg, r, ok := d.h.Run()
	return d.headed && ok && cfg == config && r == run
}

// store delivers f, a file attributed to run, and returns what the
// delivered file holds. Header, size and sha256 come from one reading of
// the very file delivered (moved first, or held open), so what is credited
// is what was delivered. When a later run of the same process replaced the
// file since its attribution (headed: its header named run), or removed
// it, store returns errTaken (and the newcomer's digest): the newcomer's
// file is left where its program wrote it.
func (c *collector) store(f candidate, run int, headed bool, rd *reading) (digest, error) {
	if c.globs == nil {
		if rd != nil {
			if d, st, ok := rd.finish(); ok && c.untouched(f.Path) {
				c.claim(f.Path, st)
				c.mu.Lock()
				c.settled(f.Path)
				c.mu.Unlock()
				return d, nil
			}
		}
		return c.storeInPlace(f, run, headed)
	}
	// A results directory may come from elsewhere: a linked directory in
	// it would take the file somewhere else.
	if _, err := dirsBelow(c.resultsDir, path.Dir(f.Name), true); err != nil {
		return digest{}, err
	}
	dst := filepath.Join(c.resultsDir, filepath.FromSlash(f.Name))
	stage := dst + ".simswarm-tmp"
	err := os.Rename(f.Path, stage)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return digest{}, errTaken
	case errors.Is(err, syscall.EXDEV):
		return c.storeCopy(f, run, headed, dst)
	case err != nil:
		return digest{}, err
	}
	d, err := digestFile(stage)
	if err != nil {
		return d, err
	}
	if headed && !d.names(c.config, run) {
		// The newcomer's file goes back for its own collection, unless
		// yet another file took its place meanwhile.
		if err := os.Link(stage, f.Path); err != nil && !errors.Is(err, fs.ErrExist) {
			return d, err
		}
		return d, errors.Join(errTaken, os.Remove(stage))
	}
	return d, os.Rename(stage, dst)
}

// storeCopy is store across filesystems: the file is copied from one open
// descriptor, read once for the copy, its header and its digest, and
// removed only if it is still the file copied.
func (c *collector) storeCopy(f candidate, run int, headed bool, dst string) (digest, error) {
	in, st, err := openCandidate(f.Path)
	if err != nil {
		return digest{}, err
	}
	defer in.Close()
	// Whatever is in tmp's place goes (a link left there would take the
	// copy to its target); O_EXCL makes the file this one's own.
	tmp := dst + ".simswarm-tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return digest{}, err
	}
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return digest{}, err
	}
	d, err := digestOf(io.TeeReader(in, out))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && headed && !d.names(c.config, run) {
		err = errTaken
	}
	if err == nil {
		err = os.Chtimes(tmp, st.ModTime(), st.ModTime()) // a .vci records its .vec's time
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return d, err
	}
	if now, err := os.Lstat(f.Path); err == nil && os.SameFile(now, st) {
		return d, os.Remove(f.Path)
	}
	return d, nil
}

// storeInPlace reads a file left where the program wrote it (runall) from
// one open descriptor and claims what it read.
func (c *collector) storeInPlace(f candidate, run int, headed bool) (digest, error) {
	in, st, err := openCandidate(f.Path)
	if err != nil {
		return digest{}, err
	}
	defer in.Close()
	d, err := digestOf(in)
	if err != nil {
		return d, err
	}
	if headed && !d.names(c.config, run) || d.size != st.Size() {
		return d, errTaken
	}
	c.claim(f.Path, st)
	c.mu.Lock()
	c.settled(f.Path)
	c.mu.Unlock()
	return d, nil
}

// openCandidate opens a file the program wrote; one gone since it was
// attributed was taken by another run (errTaken).
func openCandidate(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, errTaken
	}
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func digestFile(path string) (digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return digest{}, err
	}
	defer f.Close()
	return digestOf(f)
}

// digestOf reads r once: the header from its first bytes, the size and
// sha256 from all of them.
func digestOf(r io.Reader) (digest, error) {
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	sum := xxhash.New()
	n, err := io.ReadFull(r, *buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return digest{}, err
	}
	var d digest
	d.h, d.headed = oppcli.ReadHeader(bytes.NewReader((*buf)[:n]))
	sum.Write((*buf)[:n])
	d.size = int64(n)
	for err == nil {
		var m int
		m, err = r.Read(*buf)
		sum.Write((*buf)[:m])
		d.size += int64(m)
	}
	if err != io.EOF && err != io.ErrUnexpectedEOF {
		return digest{}, err
	}
	d.sum = digestPrefix + hex.EncodeToString(sum.Sum(nil))
	return d, nil
}

// where says where the collector looks for result files.
func (c *collector) where() string {
	if c.globs == nil {
		return c.resultsDir
	}
	return strings.Join(c.globs, ", ") + " in " + c.dir
}

// claim notes that the file st at path is credited in place: later
// batches need not look at it again, unless another file takes its place.
func (c *collector) claim(path string, st os.FileInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimed == nil {
		c.claimed = map[string]os.FileInfo{}
	}
	c.claimed[path] = st
}

// isClaimed reports whether st, found at path, is the file claimed there:
// the same file (a removed file's inode may be reused at once) of the same
// size and time.
func (c *collector) isClaimed(path string, st os.FileInfo) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was, ok := c.claimed[path]
	return ok && os.SameFile(was, st) && was.Size() == st.Size() && was.ModTime().Equal(st.ModTime())
}
