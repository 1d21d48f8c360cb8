package local

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simswarm/simswarm/workers/runidentity"
)

func TestStringLiteralsOfAnIniValue(t *testing.T) {
	for v, want := range map[string][]string{
		`xmldoc("config.xml")`:                   {"config.xml"},
		`xmldoc("config.xml", "/config/net[1]")`: {"config.xml", "/config/net[1]"},
		`"trace.movements"`:                      {"trace.movements"},
		`int(readFile("a \"b\".txt")) * 1b`:      {`a "b".txt`},
		`exponential(2s)`:                        nil,
		`"unterminated`:                          nil,
		`"" + "x"`:                               {"", "x"},
		`readFile("dir\\file")`:                  {`dir\file`},
	} {
		if got := stringLiterals(v); !slices.Equal(got, want) {
			t.Errorf("stringLiterals(%s) = %q, want %q", v, got, want)
		}
	}
}

// A file an entry names counts wherever OMNeT++ may look for it: in the
// working directory or in an ini file's directory. Strings that name no
// file add nothing, so a run naming none keeps the identity it had.
func TestDataFilesDigestTheFilesEntriesName(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "work")
	inis := filepath.Join(root, "inis")
	for _, d := range []string{work, inis} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(work, "trace.txt"), "1 2 3")
	write(filepath.Join(inis, "config.xml"), "<config/>")
	entries := []runidentity.Entry{
		{Key: "description", Value: `"a sweep"`},
		{Key: "**.trace", Value: `"trace.txt"`},
		{Key: "**.config", Value: `xmldoc("config.xml")`},
		{Key: "**.dir", Value: `"."`},
	}
	digest := func(entries []runidentity.Entry) string {
		t.Helper()
		s, err := newDataFiles(work, []string{filepath.Join(inis, "omnetpp.ini")}).digest(entries)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ref := digest(entries)
	if ref == "" {
		t.Fatal("no digest for entries naming two files")
	}
	if got := digest(entries[:1]); got != "" {
		t.Fatalf("a string naming no file gives digest %q", got)
	}
	if got := digest(entries[3:]); got != "" {
		t.Fatalf("a directory gives digest %q", got)
	}
	// What runs write is no input: a global option naming a file (the
	// ini's output-scalar-file, once a run wrote it), a file below the
	// results directory (a capture file's parameter).
	if err := os.MkdirAll(filepath.Join(work, "results"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(work, "results", "x.pcap"), "capture")
	outputs := []runidentity.Entry{{Key: "output-scalar-file", Value: `"trace.txt"`}, {Key: "**.pcapFile", Value: `"results/x.pcap"`}}
	d := newDataFiles(work, nil)
	d.writtenIn(filepath.Join(work, "results"))
	if got, err := d.digest(outputs); err != nil || got != "" {
		t.Fatalf("outputs give digest %q (%v)", got, err)
	}
	// Results in the working directory itself (result-dir = .) make no
	// file there an output: a data file's edit must not go unseen.
	d = newDataFiles(work, nil)
	d.writtenIn(work)
	d.writtenIn(root)
	if got, err := d.digest(entries[1:2]); err != nil || got == "" {
		t.Fatalf("with result-dir = ., the trace gives digest %q (%v)", got, err)
	}
	write(filepath.Join(work, "trace.txt"), "1 2 4")
	if digest(entries) == ref {
		t.Fatal("editing the trace in the working directory left the digest as it was")
	}
	write(filepath.Join(work, "trace.txt"), "1 2 3")
	if digest(entries) != ref {
		t.Fatal("the same files give another digest")
	}
	write(filepath.Join(inis, "config.xml"), "<config a='1'/>")
	if digest(entries) == ref {
		t.Fatal("editing the XML beside the ini left the digest as it was")
	}
}

// The digest does not depend on how the working directory is named
// (runall -C /abs/model, -C model, or run from inside it), nor on where
// the tree lies: a moved or differently named directory is the same model.
func TestDataFilesDigestIsTheSameHoweverTheDirectoryIsNamed(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/work", "b/work"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, d, "trace.txt"), []byte("1 2 3"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries := []runidentity.Entry{{Key: "**.trace", Value: `"trace.txt"`}}
	digest := func(dir string) string {
		t.Helper()
		s, err := newDataFiles(dir, []string{filepath.Join(dir, "omnetpp.ini")}).digest(entries)
		if err != nil || s == "" {
			t.Fatalf("digest in %s: %q, %v", dir, s, err)
		}
		return s
	}
	abs := digest(filepath.Join(root, "a", "work"))
	t.Chdir(root)
	if rel := digest(filepath.Join("a", "work")); rel != abs {
		t.Fatal("a/work and its absolute path give different digests")
	}
	t.Chdir(filepath.Join(root, "a", "work"))
	if here := digest("."); here != abs {
		t.Fatal("the working directory as . and as its absolute path give different digests")
	}
	if moved := digest(filepath.Join(root, "b", "work")); moved != abs {
		t.Fatal("the same tree elsewhere gives another digest")
	}
}

// Names that are no regular file are never opened or read: a FIFO (an
// open would wait for a writer), a device that never ends, a directory, a
// name with NUL or longer than any path; a file of /proc is read no
// further than the size it says.
func TestDataFilesNeverHangOnWhatANameNames(t *testing.T) {
	work := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(work, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries := []runidentity.Entry{
		{Key: "**.a", Value: `"fifo"`},
		{Key: "**.b", Value: `"/dev/zero"`},
		{Key: "**.c", Value: `"."`},
		{Key: "**.d", Value: `"x` + "\x00" + `y"`},
		{Key: "**.e", Value: `"` + strings.Repeat("a/", 3000) + `"`},
	}
	done := make(chan string, 1)
	go func() {
		s, err := newDataFiles(work, nil).digest(entries)
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	select {
	case s := <-done:
		if s != "" {
			t.Fatalf("names of no regular file give digest %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the digest hangs on a name of no regular file")
	}
	go func() {
		s, _ := newDataFiles(work, nil).digest([]runidentity.Entry{{Key: "**.f", Value: `"/proc/self/status"`}})
		done <- s
	}()
	select {
	case s := <-done:
		if s == "" {
			t.Fatal("a file of /proc gives no digest")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the digest hangs on a file of /proc")
	}
}
