package local

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/simswarm/simswarm/workers/runidentity"
)

// dataFiles digests the files a run's configuration names, which neither
// the model key (program, libraries, NED files) nor the resolved entries
// cover: a file read by readFile(), xmldoc() or readXML(), or named by a
// string parameter that the model opens (a mobility trace, a routing
// file). Edit one and the runs that name it are no longer the runs done.
//
// Every string literal of a parameter's value (an entry whose key has a
// dot: Aloha.host[*].x, **.config) counts that names a regular file,
// relative to the working directory or to the directory of an ini file the
// program reads (OMNeT++ resolves readFile and xmldoc against the ini file
// that holds the call, a model its own file names against the working
// directory); a string that names no file (a display string, a module
// type) adds nothing. What a run writes is no input: global options
// (output-scalar-file names a file once a run wrote it) and files below
// the results directory (a packet capture's file parameter) are left out.
// Not followed: a name put together by an expression ("a" + ${i} +
// ".xml"), and files a model opens under names of its own.
type dataFiles struct {
	// dirs are absolute: the working directory, then the ini files'.
	dirs []string
	// outputs are absolute directories whose files runs write.
	outputs []string
	sums    fileSums
}

// fileSums holds the digest of each path looked at; "" for no regular
// file.
type fileSums map[string]string

// newDataFiles looks for relative names in dir (the working directory)
// and in the directories of iniFiles.
func newDataFiles(dir string, iniFiles []string) *dataFiles {
	d := &dataFiles{sums: fileSums{}}
	add := func(p string) {
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
		if p = filepath.Clean(p); !slices.Contains(d.dirs, p) {
			d.dirs = append(d.dirs, p)
		}
	}
	add(dir)
	for _, ini := range iniFiles {
		add(filepath.Dir(ini))
	}
	return d
}

// found are the data files digest found and hashed.
func (d *dataFiles) found() []string {
	var out []string
	for p, sum := range d.sums {
		if sum != "" {
			out = append(out, p)
		}
	}
	return out
}

// digest is a digest of the files entries name, "" when they name none.
func (d *dataFiles) digest(entries []runidentity.Entry) (string, error) {
	h := sha256.New()
	named := false
	for _, e := range entries {
		if !strings.Contains(e.Key, ".") {
			continue // a global option
		}
		for _, name := range stringLiterals(e.Value) {
			for _, p := range d.candidates(name) {
				if d.isOutput(p) {
					continue
				}
				s, err := d.sums.sum(p)
				if err != nil {
					return "", err
				}
				if s != "" {
					named = true
					// Where the file was found, relative to the working
					// directory: however that is named, wherever it lies.
					at := p
					if !filepath.IsAbs(name) {
						at = fromDir(d.dirs[0], p)
					}
					fmt.Fprintf(h, "%q %q %s\n", name, at, s)
				}
			}
		}
	}
	if !named {
		return "", nil
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writtenIn notes that runs write below dir. A dir that holds the working
// directory (result-dir = .) is not taken: its files would all look like
// outputs, and a data file's edit would go unseen; a file a parameter
// names that a run writes there makes that run never resume instead.
func (d *dataFiles) writtenIn(dir string) {
	a, err := filepath.Abs(dir)
	if err != nil || within(d.dirs[0], a) {
		return
	}
	d.outputs = append(d.outputs, a)
}

// within says whether path p lies in or below directory dir (both
// absolute and clean).
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// isOutput says whether p (a candidate) lies below a directory runs
// write in.
func (d *dataFiles) isOutput(p string) bool {
	for _, o := range d.outputs {
		if within(p, o) {
			return true
		}
	}
	return false
}

// candidates are the paths name may mean, absolute and clean.
func (d *dataFiles) candidates(name string) []string {
	if name == "" || len(name) > 4096 || strings.ContainsRune(name, 0) || strings.Contains(name, "${") {
		return nil
	}
	if filepath.IsAbs(name) {
		return []string{filepath.Clean(name)}
	}
	out := make([]string, 0, len(d.dirs))
	for _, dir := range d.dirs {
		out = append(out, filepath.Join(dir, name))
	}
	return out
}

// sum is the size and SHA-256 of the regular file at p, "" when p is no
// regular file; each path is read once, and no further than the size it
// had when looked at (a file of /proc says 0 and might never end).
func (sums fileSums) sum(p string) (string, error) {
	if s, ok := sums[p]; ok {
		return s, nil
	}
	s := ""
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		f, err := os.Open(p)
		if err != nil {
			s = "unreadable"
		} else {
			h := sha256.New()
			bp := hashBufs.Get().(*[]byte)
			n, err := io.CopyBuffer(h, io.LimitReader(f, st.Size()), *bp)
			hashBufs.Put(bp)
			f.Close()
			if err != nil {
				return "", fmt.Errorf("data file %s: %w", p, err)
			}
			s = fmt.Sprintf("%d:%s", n, hex.EncodeToString(h.Sum(nil)))
		}
	}
	sums[p] = s
	return s, nil
}

// stringLiterals are the contents of the double-quoted strings in an ini
// value, with OMNeT++'s backslash escapes undone; an unterminated string
// ends the value.
func stringLiterals(v string) []string {
	var out []string
	for {
		i := strings.IndexByte(v, '"')
		if i < 0 {
			return out
		}
		v = v[i+1:]
		var b strings.Builder
		closed := false
		for j := 0; j < len(v); j++ {
			c := v[j]
			if c == '\\' && j+1 < len(v) {
				j++
				b.WriteByte(v[j])
				continue
			}
			if c == '"' {
				v = v[j+1:]
				closed = true
				break
			}
			b.WriteByte(c)
		}
		if !closed {
			return out
		}
		out = append(out, b.String())
	}
}
