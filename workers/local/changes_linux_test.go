package local

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestWritesAreHeardOnlyWhileWatched: the change log does not hear every
// write below the results directory (the kernel would make an event per
// write(2) of every simulation), only the file's close; a file watched
// for writes (while collect reads it) is heard at its first write, and no
// longer once unwatched.
func TestWritesAreHeardOnlyWhileWatched(t *testing.T) {
	dir := t.TempDir()
	cl := watchChanges(dir, filepath.Join(dir, ".simswarm"))
	if cl == nil {
		t.Fatal("no inotify here")
	}
	defer cl.close()
	heard := func() []string {
		t.Helper()
		paths, ok := cl.changed()
		if !ok {
			t.Fatal("the change log lost events")
		}
		return paths
	}
	p := filepath.Join(dir, "a.vec")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := heard(); !slices.Contains(got, p) {
		t.Fatalf("a created file: heard %q, want %s", got, p)
	}
	for range 100 {
		if _, err := f.WriteString("vector data\n"); err != nil {
			t.Fatal(err)
		}
	}
	if got := heard(); len(got) != 0 {
		t.Fatalf("writes to an unwatched file: heard %q, want nothing until its close", got)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := heard(); !slices.Contains(got, p) {
		t.Fatalf("a closed file: heard %q, want %s", got, p)
	}

	// Watched (collect reading it): another writer's write is heard.
	unwatch, ok := cl.watchWrites(p)
	if !ok {
		t.Fatal("cannot watch a file's writes")
	}
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("more\n"); err != nil {
		t.Fatal(err)
	}
	if got := heard(); !slices.Contains(got, p) {
		t.Fatalf("a watched file written to: heard %q, want %s", got, p)
	}
	// A write queued before the watch's removal is still heard as the
	// file's.
	if _, err := w.WriteString("last\n"); err != nil {
		t.Fatal(err)
	}
	unwatch()
	if got := heard(); !slices.Contains(got, p) {
		t.Fatalf("a write just before the unwatch: heard %q, want %s", got, p)
	}
	if _, err := w.WriteString("after\n"); err != nil {
		t.Fatal(err)
	}
	if got := heard(); len(got) != 0 {
		t.Fatalf("writes after the unwatch: heard %q, want nothing", got)
	}
}

// unwatchable is a change log that cannot watch a file's writes (no
// inotify watches left: max_user_watches).
type unwatchable struct{ changeLog }

func (unwatchable) watchWrites(string) (func(), bool) { return nil, false }

// TestFilesAreCreditedWhenTheirWritesCannotBeWatched: when collect cannot
// watch a file's writes while it reads it, it still reads its header and
// credits it (read afresh when stored), rather than taking it for a file
// that says no run.
func TestFilesAreCreditedWhenTheirWritesCannotBeWatched(t *testing.T) {
	c, results := watchedCollector(t, 0)
	c.changes = unwatchable{c.changes}
	since := time.Now().Add(-time.Minute)
	if err := os.WriteFile(filepath.Join(results, "Same.sca"), []byte(sameHeader(0)+"scalar Net value 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := c.collect([]int{0}, since)
	if err != nil || len(got.files[0]) != 1 || got.files[0][0].Name != "Same.sca" {
		t.Fatalf("run 0: %v, %+v; want Same.sca credited", err, got)
	}
}
