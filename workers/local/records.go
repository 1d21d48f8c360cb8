package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// FileRecord is one result file of a completed run.
type FileRecord struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Record says that a run completed and which files it left.
type Record struct {
	Run        int          `json:"run"`
	Config     string       `json:"config"`
	Attempts   int          `json:"attempts"`
	DurationMS int64        `json:"durationMs"`
	CPUMS      int64        `json:"cpuMs"`
	Finished   time.Time    `json:"finished"`
	Files      []FileRecord `json:"files"`
}

// records stores completion records in DIR/.simswarm/runs/NAME/RUN.json,
// next to the results they vouch for.
type records struct {
	resultsDir string
	dir        string
}

func newRecords(resultsDir, name string) (records, error) {
	r := records{resultsDir: resultsDir, dir: filepath.Join(resultsDir, ".simswarm", "runs", name)}
	return r, os.MkdirAll(r.dir, 0o755)
}

func (r records) path(run int) string { return filepath.Join(r.dir, strconv.Itoa(run)+".json") }

// complete reports whether run has a record and every file it lists is
// present with the recorded size and sha256.
func (r records) complete(run int) bool {
	data, err := os.ReadFile(r.path(run))
	if err != nil {
		return false
	}
	var rec Record
	if json.Unmarshal(data, &rec) != nil || rec.Run != run {
		return false
	}
	for _, f := range rec.Files {
		if !safeName(f.Name) {
			return false
		}
		p := filepath.Join(r.resultsDir, f.Name)
		st, err := os.Stat(p)
		if err != nil || st.Size() != f.Size {
			return false
		}
		sum, err := fileSHA256(p)
		if err != nil || sum != f.SHA256 {
			return false
		}
	}
	return true
}

// write stores rec atomically (temp file + rename): a crash leaves either
// the old record or the new one, never half of one.
func (r records) write(rec Record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(r.dir, ".rec-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), r.path(rec.Run)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("record run %d: %w", rec.Run, err)
	}
	return nil
}

// forget removes run's record: its results are about to be redone.
func (r records) forget(run int) { _ = os.Remove(r.path(run)) }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
