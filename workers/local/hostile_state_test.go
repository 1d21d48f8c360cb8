package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simswarm/simswarm/workers/resultfiles"
)

// TestSymlinksInTheStateDirectoryAreNeverFollowed: a results directory may
// come from elsewhere (unpacked, synced, shared); a symbolic link where
// simswarm keeps its journal, its journal's temporary file or its lock
// must not make it truncate, append to or overwrite the file it points
// to. Execute refuses, naming the link, and the target is untouched.
func TestSymlinksInTheStateDirectoryAreNeverFollowed(t *testing.T) {
	for _, name := range []string{filepath.Join("runs", "test.jsonl"), filepath.Join("runs", "test.jsonl.tmp"), "lock"} {
		t.Run(name, func(t *testing.T) {
			p := testPlan(t, []int{0})
			results := filepath.Join(t.TempDir(), "results")
			victim := filepath.Join(t.TempDir(), "precious")
			const precious = "precious, not a journal\n" // a torn last line
			if err := os.WriteFile(victim, []byte(precious+"no newline"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(results, ".simswarm", name)
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, link); err != nil {
				t.Fatal(err)
			}
			// Enough superseded lines that the journal is rewritten
			// compactly (through its .tmp file).
			if strings.HasSuffix(name, ".tmp") {
				var lines strings.Builder
				for range 100 {
					lines.WriteString(`{"run":0,"config":"Cfg","identity":"x","files":[]}` + "\n")
				}
				if err := os.WriteFile(filepath.Join(results, ".simswarm", "runs", "test.jsonl"), []byte(lines.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Execute(context.Background(), p, Options{ResultsDir: results, Jobs: 1})
			if err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("Execute: %v, want it to refuse the symbolic link %s", err, link)
			}
			if b, _ := os.ReadFile(victim); string(b) != precious+"no newline" {
				t.Errorf("the link's target was written: %q", b)
			}
		})
	}
}

// TestALinkedOrStrangeStateDirectoryIsRefused: the state directory, or its
// runs directory, being a link to another directory (whose journal would
// be appended to), and a FIFO where the journal belongs (a read that never
// ends), are refused too.
func TestALinkedOrStrangeStateDirectoryIsRefused(t *testing.T) {
	for _, tc := range []struct{ name, place, want string }{
		{"the state directory a link", ".simswarm", "symbolic link"},
		{"its runs directory a link", filepath.Join(".simswarm", "runs"), "symbolic link"},
		{"a FIFO for the journal", filepath.Join(".simswarm", "runs", "test.jsonl"), "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan(t, []int{0})
			results := filepath.Join(t.TempDir(), "results")
			place := filepath.Join(results, tc.place)
			if err := os.MkdirAll(filepath.Dir(place), 0o755); err != nil {
				t.Fatal(err)
			}
			elsewhere := t.TempDir()
			journal := filepath.Join(elsewhere, "runs", "test.jsonl")
			if tc.place == filepath.Join(".simswarm", "runs") {
				journal = filepath.Join(elsewhere, "test.jsonl")
			}
			if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(journal, []byte("theirs\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tc.name, "FIFO") {
				if err := syscall.Mkfifo(place, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink(elsewhere, place); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := Execute(context.Background(), p, Options{ResultsDir: results, Jobs: 1})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Execute: %v, want %q", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Execute hangs")
			}
			if b, _ := os.ReadFile(journal); string(b) != "theirs\n" {
				t.Errorf("a journal elsewhere was written: %q", b)
			}
		})
	}
}

// TestAResultIsNeverMovedThroughALinkedDirectory: with result globs (a
// Campaign's spec.results), a run's files are moved into the results
// directory under their path below the glob; a directory there that is a
// link to elsewhere (a results tree unpacked from outside) must not take
// them there: the run fails, naming the link, and the elsewhere stays
// empty.
func TestAResultIsNeverMovedThroughALinkedDirectory(t *testing.T) {
	p := testPlan(t, []int{0})
	p.Args = append(p.Args, "--result-dir=results/Sub")
	p.Results = []string{"results/*/*.sca", "results/*/*.vec"}
	p.Retries = 0
	results := filepath.Join(t.TempDir(), "results")
	elsewhere := t.TempDir()
	if err := os.MkdirAll(results, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(results, "Sub")); err != nil {
		t.Fatal(err)
	}
	sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 1})
	if sum.Failed != 1 || len(sum.Failures) != 1 || !strings.Contains(sum.Failures[0].Reason, "symbolic link") {
		t.Errorf("summary %+v, want run 0 failed naming the link", sum)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("files moved through the link: %v", entries)
	}
}

// TestACopiedResultNeverWritesThroughALink: across filesystems a result is
// copied through DST.simswarm-tmp; a link left in that place (a results
// tree from elsewhere) is replaced, never written through.
func TestACopiedResultNeverWritesThroughALink(t *testing.T) {
	work, results := t.TempDir(), t.TempDir()
	c := newCollector(work, results, []string{"results/*.sca"}, "Cfg", nil)
	src := filepath.Join(work, "Cfg-#0.sca")
	if err := os.WriteFile(src, []byte("version 3\nrun Cfg-0\nattr configname Cfg\nattr runnumber 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(results, "Cfg-#0.sca")
	if err := os.Symlink(victim, dst+".simswarm-tmp"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.storeCopy(candidate{Found: resultfiles.Found{Path: src, Name: "Cfg-#0.sca"}}, 0, true, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the copy went through the link: %q", b)
	}
	if b, err := os.ReadFile(dst); err != nil || !strings.Contains(string(b), "attr runnumber 0") {
		t.Errorf("the result was not stored: %q %v", b, err)
	}
}

// TestReadingRecordsCreatesNothing: reading a results directory's records
// (none yet) leaves it as it was: only writing makes simswarm's state
// directory.
func TestReadingRecordsCreatesNothing(t *testing.T) {
	results := t.TempDir()
	recs, err := ReadRecords(results, "test")
	if err != nil || len(recs) != 0 {
		t.Fatalf("ReadRecords: %v %v", recs, err)
	}
	if entries, _ := os.ReadDir(results); len(entries) != 0 {
		t.Errorf("reading created %v", entries)
	}
}
