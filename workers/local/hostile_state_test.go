package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
