package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sameHeader is the header of a .sca of config Same whose runs all write
// results/Same.sca (output-scalar-file = ${resultdir}/${configname}.sca).
func sameHeader(run int) string {
	return fmt.Sprintf("version 3\nrun Same-%d-20260101-00:00:00-1\nattr configname Same\nattr runnumber %d\nconfig output-scalar-file results/Same.sca\n", run, run)
}

// writeReplacing replaces path as OMNeT++ does at the start of a run: the
// old file is removed, a new one created.
func writeReplacing(t *testing.T, path, content string) {
	t.Helper()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sameNameCollector is a collector of config Same over a work directory
// holding run 0's results/Same.sca; globs nil leaves files in place
// (runall).
func sameNameCollector(t *testing.T, globs []string) (c *collector, work, results string) {
	t.Helper()
	work, results = t.TempDir(), t.TempDir()
	if globs == nil {
		results = filepath.Join(work, "results")
	}
	if err := os.MkdirAll(filepath.Join(work, "results"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "results", "Same.sca"), []byte(sameHeader(0)+"scalar Net value 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return newCollector(work, results, globs, "Same", nil), work, results
}

// TestFileReplacedWhileCollectedIsNotCredited: the program goes on with
// its next run while the finished one is collected, and a run writing the
// same file name replaces the file between the moment its header was read
// and the moment it is stored. What is credited must be exactly what is
// delivered: run 0 is refused (its file was taken by another run's of the
// same name), never credited with run 1's file, and run 1 then conflicts
// too; neither run succeeds, in run's (move) and runall's (in place,
// hearing of changes or listing) modes, whether the newcomer has written
// its header yet, or not yet created its file, or rewrote the file in
// place (the same file, of the same size, within the file clock's tick),
// or is still rewriting it (open: no close to hear of yet).
func TestFileReplacedWhileCollectedIsNotCredited(t *testing.T) {
	for _, mode := range []struct {
		name  string
		globs []string
		watch bool
	}{{"move", []string{"results/*"}, false}, {"in place", nil, false}, {"in place, watched", nil, true}} {
		for _, newcomer := range []string{"whole", "empty", "not yet", "rewritten", "rewriting"} {
			t.Run(mode.name+"/"+newcomer, func(t *testing.T) {
				c, work, results := sameNameCollector(t, mode.globs)
				var writing *os.File // the newcomer's, while "rewriting"
				if mode.watch {
					// Run 0's file is written once the collector listens.
					c.watch()
					defer c.close()
					writeReplacing(t, filepath.Join(work, "results", "Same.sca"), sameHeader(0)+"scalar Net value 0\n")
				}
				src := filepath.Join(work, "results", "Same.sca")
				since := time.Now().Add(-time.Minute)
				c.storing = func(path string) {
					switch newcomer {
					case "whole":
						writeReplacing(t, path, sameHeader(1)+"scalar Net value 1\n")
					case "empty":
						writeReplacing(t, path, "")
					case "not yet":
						os.Remove(path)
					case "rewritten":
						st, err := os.Stat(path)
						if err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, []byte(sameHeader(1)+"scalar Net value 1\n"), 0o644); err != nil {
							t.Fatal(err)
						}
						// As if within the same tick of the file clock.
						if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
							t.Fatal(err)
						}
					case "rewriting":
						var err error
						if writing, err = os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0); err != nil {
							t.Fatal(err)
						}
						if _, err := writing.WriteString(sameHeader(1) + "scalar Net value 1\n"); err != nil {
							t.Fatal(err)
						}
					}
				}
				got, err := c.collect([]int{0}, since)
				if writing != nil {
					writing.Close()
				}
				if err != nil {
					t.Fatal(err)
				}
				c.storing = nil
				if len(got.files[0]) != 0 || len(got.refused[0]) == 0 || !strings.Contains(strings.Join(got.refused[0], ";"), "Same.sca") {
					t.Fatalf("run 0: credited %+v, refused %q; want refused naming Same.sca", got.files[0], got.refused[0])
				}
				if mode.globs != nil {
					if data, err := os.ReadFile(filepath.Join(results, "Same.sca")); err == nil && !strings.Contains(string(data), "runnumber 0\n") {
						t.Fatalf("delivered Same.sca is not run 0's:\n%s", data)
					}
				}
				// Run 1 finishes its file, and is collected.
				if newcomer != "whole" && newcomer != "rewritten" && newcomer != "rewriting" {
					writeReplacing(t, src, sameHeader(1)+"scalar Net value 1\n")
				} else if _, err := os.Stat(src); err != nil {
					t.Fatalf("run 1's file is gone from where the program wrote it: %v", err)
				}
				got, err = c.collect([]int{1}, since)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.files[1]) != 0 || len(got.refused[1]) == 0 {
					t.Fatalf("run 1: credited %+v, refused %q; want refused", got.files[1], got.refused[1])
				}
			})
		}
	}
}

// TestRunInAConflictIsRefusedOnItsRetry: run 0 lost its file (the store
// failed, so it is to be retried) and then runs 1 and 2 named its file: on
// its retry, run 0 is refused, though no run credited the file.
func TestRunInAConflictIsRefusedOnItsRetry(t *testing.T) {
	c, work, _ := sameNameCollector(t, []string{"results/*"})
	src := filepath.Join(work, "results", "Same.sca")
	since := time.Now().Add(-time.Minute)
	c.storing = func(path string) { os.Remove(path) }
	got, err := c.collect([]int{0}, since)
	c.storing = nil
	if err == nil && len(got.files[0]) > 0 {
		t.Fatalf("run 0 credited with a file that is gone: %+v", got.files[0])
	}
	for _, run := range []int{1, 2} {
		writeReplacing(t, src, sameHeader(run))
		if got, err := c.collect([]int{run}, since); err != nil || len(got.refused[run]) == 0 {
			t.Fatalf("run %d: %v, %+v", run, err, got)
		}
	}
	writeReplacing(t, src, sameHeader(0))
	got, err = c.collect([]int{0}, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.files[0]) != 0 || len(got.refused[0]) == 0 {
		t.Fatalf("retried run 0: credited %+v, refused %q; want refused", got.files[0], got.refused[0])
	}
}

// TestClaimedFileReplacedInPlaceConflicts: runall leaves files in place and
// need not look again at a file it credited, but a later run that writes
// the same name makes a new file there: it is looked at, and the two runs
// conflict (the earlier one revoked), even with no other file naming it.
func TestClaimedFileReplacedInPlaceConflicts(t *testing.T) {
	c, work, _ := sameNameCollector(t, nil)
	since := time.Now().Add(-time.Minute)
	got, err := c.collect([]int{0}, since)
	if err != nil || len(got.files[0]) != 1 {
		t.Fatalf("run 0: %v, %+v", err, got)
	}
	writeReplacing(t, filepath.Join(work, "results", "Same.sca"), sameHeader(1)+"scalar Net value 1\n")
	got, err = c.collect([]int{1}, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.files[1]) != 0 || len(got.refused[1]) == 0 || got.revoked[0] == "" {
		t.Fatalf("run 1: credited %+v, refused %q, revoked %v; want run 1 refused and run 0 revoked", got.files[1], got.refused[1], got.revoked)
	}
}

// watchedCollector is a runall collector (files in place) of config Same
// over a results directory already holding old files old files, claimed,
// and hearing of changes as Execute's does.
func watchedCollector(t *testing.T, old int) (c *collector, results string) {
	t.Helper()
	work := t.TempDir()
	results = filepath.Join(work, "results")
	if err := os.MkdirAll(filepath.Join(results, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range old {
		if err := os.WriteFile(filepath.Join(results, "old", fmt.Sprintf("Old-#%d.sca", i)), []byte("version 3\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c = newCollector(work, results, nil, "Same", nil)
	c.watch()
	t.Cleanup(func() { c.close() })
	if err := c.claimExisting(); err != nil {
		t.Fatal(err)
	}
	return c, results
}

// TestCollectLooksAtWhatChanged: collecting a run in a results directory
// of thousands of files it need not look at again (claimed) examines the
// files written since the last collect, not all of them: listing and
// stat-ing every file for every run made collecting grow with the square
// of a sweep's runs (11 s of CPU for 1,050 aloha runs). What it finds is
// the same: the run's new file in a directory made meanwhile, then one
// rewritten in place (same inode, truncated), which conflicts.
func TestCollectLooksAtWhatChanged(t *testing.T) {
	c, results := watchedCollector(t, 3000)
	since := time.Now().Add(-time.Minute)
	if err := os.MkdirAll(filepath.Join(results, "new", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	sca := filepath.Join(results, "new", "deeper", "Same.sca")
	if err := os.WriteFile(sca, []byte(sameHeader(0)+"scalar Net value 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.looked = 0
	got, err := c.collect([]int{0}, since)
	if err != nil || len(got.files[0]) != 1 || got.files[0][0].Name != "new/deeper/Same.sca" {
		t.Fatalf("run 0: %v, %+v", err, got)
	}
	if c.looked > 10 {
		t.Fatalf("collecting one run's file examined %d files of a results directory of 3,001", c.looked)
	}
	// Run 1 rewrites the file in place (O_TRUNC, same inode): it is
	// looked at again, and the runs conflict.
	before, _ := os.Stat(sca)
	f, err := os.OpenFile(sca, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(sameHeader(1) + "scalar Net value 1 and more\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if after, _ := os.Stat(sca); !os.SameFile(before, after) {
		t.Fatal("the test meant to rewrite the file in place")
	}
	c.looked = 0
	got, err = c.collect([]int{1}, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.files[1]) != 0 || len(got.refused[1]) == 0 || got.revoked[0] == "" {
		t.Fatalf("run 1: credited %+v, refused %q, revoked %v; want run 1 refused and run 0 revoked", got.files[1], got.refused[1], got.revoked)
	}
	if c.looked > 10 {
		t.Fatalf("examined %d files", c.looked)
	}
}

// TestFileRewrittenWhileAnotherIsStoredIsNotCredited: runall reads each
// file's header and digest in one pass and trusts that reading only if it
// heard nothing of the file since; hearing of it while storing another
// file of the same collect counts too. Run 0 wrote A.sca and Same.sca;
// while A.sca is stored, a later run rewrites Same.sca in place (same
// size, same time): run 0 must not be credited with Same.sca.
func TestFileRewrittenWhileAnotherIsStoredIsNotCredited(t *testing.T) {
	c, work, _ := sameNameCollector(t, nil)
	c.watch()
	defer c.close()
	same := filepath.Join(work, "results", "Same.sca")
	writeReplacing(t, filepath.Join(work, "results", "A.sca"), sameHeader(0)+"scalar Net a 0\n")
	writeReplacing(t, same, sameHeader(0)+"scalar Net value 0\n")
	c.storing = func(path string) {
		if filepath.Base(path) != "A.sca" {
			return
		}
		st, err := os.Stat(same)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(same, []byte(sameHeader(1)+"scalar Net value 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(same, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.collect([]int{0}, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got.files[0] {
		if f.Name == "Same.sca" {
			t.Fatalf("run 0 credited with Same.sca, which run 1 rewrote: %+v (refused %q)", got.files[0], got.refused[0])
		}
	}
	if len(got.refused[0]) == 0 {
		t.Fatalf("run 0 not refused: credited %+v", got.files[0])
	}
}
