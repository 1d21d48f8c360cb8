package local

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/simswarm/simswarm/workers/resultfiles"
)

// FileRecord is one result file of a completed run; Name is its slash path
// below the results directory. Digest is "xxh64:" and the xxHash64 of its
// content, in hex: a check against damage (a truncated or edited file,
// another run's file in its place), read as the file is credited. Not
// sha256: its cost, on every byte a sweep writes (110 MB for aloha's 42
// runs), came out of the simulations' CPU on a machine whose cores they
// fill; and anyone who can forge a result file can write this journal too.
type FileRecord struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Digest string `json:"digest"`
}

// digestPrefix names the digest's algorithm in FileRecord.Digest.
const digestPrefix = "xxh64:"

// fileDigest is FileRecord.Digest of the file at path.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d, err := digestOf(f)
	return d.sum, err
}

// Record says that a run completed and which files it left. Identity is
// what it is found by (Plan.Identities): the run under the number it had
// then (Run) and any later run of the same identity, whatever its number.
type Record struct {
	Run        int          `json:"run"`
	Config     string       `json:"config"`
	Identity   string       `json:"identity,omitempty"`
	Key        string       `json:"key,omitempty"`
	Attempts   int          `json:"attempts"`
	DurationMS int64        `json:"durationMs"`
	CPUMS      int64        `json:"cpuMs"`
	Finished   time.Time    `json:"finished"`
	Files      []FileRecord `json:"files"`
}

// records is the completion journal DIR/.simswarm/runs/NAME.jsonl: one JSON
// line per completed run, appended (one write each, no file per run and no
// fsync per run: creating files costs more than a trivial run). A record is
// a claim that complete checks against the files' digests, so a torn or
// stale line can cost a rerun but never a wrong skip; the last line of an
// identity wins (a line without one, from an older simswarm, counts for
// nothing).
type records struct {
	resultsDir string
	path       string
	known      map[string]Record
	// claimed are the identities a run of this Execute was found complete
	// by: one record is one run's.
	claimed map[string]bool

	mu sync.Mutex
	f  *os.File
}

// unsafeJournalChars are replaced in journal names (a runall config name
// comes from the command line).
var unsafeJournalChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// journalRel is the journal of name below the results directory, as a
// slash path (openState).
func journalRel(name string) string {
	return stateDir + "/runs/" + unsafeJournalChars.ReplaceAllString(name, "_") + ".jsonl"
}

func journalPath(resultsDir, name string) string {
	return filepath.Join(resultsDir, filepath.FromSlash(journalRel(name)))
}

// openRecords loads the journal of name in resultsDir and opens it for
// appending; a torn last line (a crash mid-write) is cut off first, and a
// journal mostly made of superseded lines is rewritten compactly.
func openRecords(resultsDir, name string) (*records, error) {
	rel := journalRel(name)
	known, _, lines, valid, err := loadJournal(resultsDir, rel)
	if err != nil {
		return nil, err
	}
	compact := lines > 2*len(known)+64
	if compact {
		if err := rewriteJournal(resultsDir, rel, known); err != nil {
			return nil, err
		}
	}
	f, err := openState(resultsDir, rel, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if !compact {
		if err := f.Truncate(valid); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &records{resultsDir: resultsDir, path: journalPath(resultsDir, name), known: known, claimed: map[string]bool{}, f: f}, nil
}

// ReadRecords returns the completion records of name in resultsDir, the
// last of each run number (what a later `simswarm run` checks before
// skipping a run is found by its identity).
func ReadRecords(resultsDir, name string) (map[int]Record, error) {
	_, byRun, _, _, err := loadJournal(resultsDir, journalRel(name))
	return byRun, err
}

// loadJournal parses the journal: the last record of each identity and of
// each run number, the number of lines, and the length up to the last
// complete line.
func loadJournal(resultsDir, rel string) (map[string]Record, map[int]Record, int, int64, error) {
	known, byRun := map[string]Record{}, map[int]Record{}
	path := filepath.Join(resultsDir, filepath.FromSlash(rel))
	f, err := openState(resultsDir, rel, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return known, byRun, 0, 0, nil
	}
	if err != nil {
		return nil, nil, 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	lines, valid := 0, int64(0)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break // a line without its newline is torn
		}
		if err != nil {
			return nil, nil, 0, 0, fmt.Errorf("read %s: %w", path, err)
		}
		valid += int64(len(line))
		lines++
		var rec Record
		if json.Unmarshal(bytes.TrimSpace(line), &rec) == nil && rec.Run >= 0 {
			byRun[rec.Run] = rec
			if rec.Identity != "" {
				known[rec.Identity] = rec
			}
		}
	}
	return known, byRun, lines, valid, nil
}

func rewriteJournal(resultsDir, rel string, known map[string]Record) error {
	var buf bytes.Buffer
	for _, rec := range known {
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		buf.Write(data)
		buf.WriteByte('\n')
	}
	f, err := openState(resultsDir, rel+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	path := filepath.Join(resultsDir, filepath.FromSlash(rel))
	return os.Rename(path+".tmp", path)
}

// complete returns the record of identity if there is one that no other
// run of this Execute claimed, and every file it lists is present with the
// recorded size and digest; the record is then claimed.
func (r *records) complete(identity string) (Record, bool) {
	rec, ok := r.known[identity]
	if !ok || identity == "" || r.claimed[identity] || rec.Identity != identity || len(rec.Files) == 0 {
		return Record{}, false
	}
	for _, f := range rec.Files {
		if !resultfiles.SafePath(f.Name) {
			return Record{}, false
		}
		p := filepath.Join(r.resultsDir, filepath.FromSlash(f.Name))
		st, err := os.Stat(p)
		if err != nil || st.Size() != f.Size {
			return Record{}, false
		}
		sum, err := fileDigest(p)
		if err != nil || sum != f.Digest {
			return Record{}, false
		}
	}
	r.claimed[identity] = true
	return rec, true
}

// forget drops identity's record from memory: its run is being redone, and
// its old line in the journal is superseded by the new one (or, if the
// rerun fails, fails the digest check of the files it no longer matches).
func (r *records) forget(identity string) { delete(r.known, identity) }

// write appends rec to the journal in one write.
func (r *records) write(rec Record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.f.Write(data); err != nil {
		return fmt.Errorf("record run %d: %w", rec.Run, err)
	}
	return nil
}

// close closes the journal without syncing it: the result files it
// describes are not synced either (opp_runall syncs nothing), a record
// lost in a crash costs a rerun, and a record whose files were lost fails
// the digest check. An fsync here, after the sweep wrote its result files,
// waited for the filesystem to commit them too: up to tens of
// milliseconds after the last run, on the sweep's critical path.
func (r *records) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// hashBufs are digestOf's read buffers: result files run to hundreds of
// megabytes, and io.Copy's fresh 32 KiB buffer per file meant a read
// system call per 32 KiB and new pages for every file.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}
