package omnetpp

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Tree lists the regular files under dir as slash paths relative to it,
// leaving out what starts with a dot (simswarm's bookkeeping, partial
// downloads).
func Tree(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// SameFiles fails t unless gotDir holds the files of wantDir at the same
// relative paths, each differing only where two runs of the same sweep by
// OMNeT++ differ (see Normalize).
func SameFiles(t testing.TB, who, wantDir, gotDir string) {
	t.Helper()
	want, got := Tree(t, wantDir), Tree(t, gotDir)
	if len(want) == 0 {
		t.Fatalf("%s: no files to compare with in %s", who, wantDir)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s left\n%q\nwant\n%q", who, got, want)
	}
	for _, name := range want {
		w, err := os.ReadFile(filepath.Join(wantDir, name))
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(filepath.Join(gotDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if nw, ng := Normalize(name, w), Normalize(name, g); !bytes.Equal(nw, ng) {
			t.Errorf("%s: %s differs beyond run id, date and process id:\n%s", who, name, firstDiff(nw, ng))
		}
	}
}

// Normalize removes what differs between two runs of the same sweep: the
// run line, attr datetime/datetimef/processid; in a .vci also its .vec's
// modification time and the block offsets those lines shift (kept relative
// to the first block); in a .elog the run id; in a .out the
// timing-dependent progress lines.
func Normalize(name string, data []byte) []byte {
	var out bytes.Buffer
	firstOffset := int64(-1)
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "run "), strings.HasPrefix(line, "attr datetime "), strings.HasPrefix(line, "attr datetimef "),
			strings.HasPrefix(line, "attr processid "):
			continue
		}
		switch filepath.Ext(name) {
		case ".vci":
			if strings.HasPrefix(line, "file ") {
				continue
			}
			// A block: vector id, offset in the .vec, length, statistics.
			if f := strings.Fields(line); len(f) > 2 && line[0] >= '0' && line[0] <= '9' {
				if off, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					if firstOffset < 0 {
						firstOffset = off
					}
					f[1] = strconv.FormatInt(off-firstOffset, 10)
					line = strings.Join(f, " ")
				}
			}
		case ".elog":
			// The eventlog names the run by its id (date and process id).
			if i := strings.Index(line, " rid "); i >= 0 {
				rest := line[i+5:]
				if j := strings.IndexByte(rest, ' '); j >= 0 {
					rest = rest[j:]
				} else {
					rest = ""
				}
				line = line[:i] + " rid" + rest
			}
		case ".out":
			if strings.HasPrefix(line, "** Event #") || strings.HasPrefix(line, "     Speed:") || strings.HasPrefix(line, "     Messages:") {
				continue
			}
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: want %q, got %q", i+1, x, y)
		}
	}
	return "(none)"
}
