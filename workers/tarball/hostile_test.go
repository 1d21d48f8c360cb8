package tarball

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outsideSnapshot lists every path under parent except those under dir,
// without following links, so a test can tell what an extraction added
// next to its target.
func outsideSnapshot(t *testing.T, parent, dir string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return filepath.SkipDir
		}
		seen[p] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

func sym(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}
}
func file(name string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}
}
func dirent(name string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}
}

// TestExtractRefusesArchivesThatEscapeOnDisk covers archives whose every
// entry is safe by name but whose links, once on disk, lead out of the
// target: the extraction must fail naming the entry at fault and leave
// nothing outside the target directory.
func TestExtractRefusesArchivesThatEscapeOnDisk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []*tar.Header
		blame   string // the entry the error must name
	}{
		{"symlink chain", []*tar.Header{
			sym("a", "."), sym("a/l1", ".."), sym("a/l1/l2", ".."), sym("a/l1/l2/l3", ".."),
			file("a/l1/l2/l3/evil"),
		}, "a/l1"},
		{"file through a link whose target crosses a link", []*tar.Header{
			sym("x", "."), sym("y", "x/.."), file("y/evil"),
		}, "y"},
		{"link whose target crosses a later link", []*tar.Header{
			sym("y", "x/.."), sym("x", "."),
		}, "y"},
		{"directory through a link", []*tar.Header{
			sym("a", "."), sym("a/up", ".."), dirent("a/up/evil/"),
		}, "a/up"},
		{"absolute link", []*tar.Header{sym("l", "/etc/passwd")}, "l"},
		{"absolute link then a file over it", []*tar.Header{sym("passwd", "/etc/passwd"), file("passwd")}, "passwd"},
		{"hard link", []*tar.Header{file("f"), {Name: "h", Typeflag: tar.TypeLink, Linkname: "f"}}, "h"},
		{"hard link out", []*tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../evil"}}, "h"},
		{"link replaced by a directory", []*tar.Header{
			sym("d", "."), dirent("d/"), sym("d/q", ".."), file("d/q/evil"),
		}, "d"},
		{"link replaced by a file", []*tar.Header{sym("f", "sub"), file("f")}, "f"},
		{"duplicate file", []*tar.Header{file("omnetpp.ini"), file("./omnetpp.ini")}, "omnetpp.ini"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			// Nested, so that a climb of a few levels still lands in parent
			// where the test can see it.
			dir := filepath.Join(parent, "p1", "p2", "p3", "out")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			before := outsideSnapshot(t, parent, dir)
			err := Extract(archive(t, tc.entries...), dir, DefaultLimit)
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("got %v, want ErrUnsafe", err)
			} else if !strings.Contains(err.Error(), tc.blame) {
				t.Errorf("error %q does not name entry %s", err, tc.blame)
			}
			for p := range outsideSnapshot(t, parent, dir) {
				if !before[p] {
					t.Errorf("extraction created %s outside %s", p, dir)
				}
			}
			// No link left behind may lead out either.
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type()&fs.ModeSymlink != 0 {
					if real, err := filepath.EvalSymlinks(p); err == nil && !strings.HasPrefix(real+"/", dir+"/") {
						t.Errorf("link %s left behind, leading to %s", p, real)
					}
				}
				return nil
			})
		})
	}
}

// TestExtractKeepsLinksThatStayInside is the other side: relative links
// that climb with .. but stay inside, links to links, and the global pax
// header `git archive` writes all unpack.
func TestExtractKeepsLinksThatStayInside(t *testing.T) {
	dir := t.TempDir()
	err := Extract(archive(t,
		&tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "abc"}},
		dirent("lib/"), file("lib/libm.so.1"), sym("lib/libm.so", "libm.so.1"),
		dirent("bin/"), sym("bin/lib", "../lib"), sym("l", "bin/lib/libm.so"),
		sym("dangling", "out/not-built-yet"),
		dirent("lib/"),
	), dir, DefaultLimit)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "l")); err != nil || string(data) != "xx" {
		t.Fatalf("link chain inside: %q %v", data, err)
	}
	if target, _ := os.Readlink(filepath.Join(dir, "dangling")); target != "out/not-built-yet" {
		t.Fatalf("dangling link: %q", target)
	}
	if _, err := os.Lstat(filepath.Join(dir, "pax_global_header")); err == nil {
		t.Fatal("the global pax header was unpacked as a file")
	}
}

// TestExtractRefusesPlantedDirectoryLink: a link already on disk where the
// archive wants a directory is never written through.
func TestExtractRefusesPlantedDirectoryLink(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	victim := filepath.Join(parent, "victim")
	os.MkdirAll(dir, 0o755)
	os.MkdirAll(victim, 0o755)
	os.Symlink(victim, filepath.Join(dir, "d"))
	err := Extract(archive(t, dirent("d/"), file("d/f")), dir, DefaultLimit)
	if err == nil {
		if st, err := os.Lstat(filepath.Join(dir, "d")); err != nil || !st.IsDir() {
			t.Fatalf("d is not a real directory: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(victim, "f")); err == nil {
		t.Fatal("extraction wrote through a planted directory link")
	}
}

// TestPackDoesNotReadThroughLinksOut: an artifact path that crosses a link
// out of the tree (the build made it) is refused, not packed.
func TestPackDoesNotReadThroughLinksOut(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("token"), 0o600)
	root := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "out"))
	os.Symlink("../"+filepath.Base(outside), filepath.Join(root, "rel"))
	for _, p := range []string{"out/secret", "rel/secret"} {
		var buf bytes.Buffer
		if _, _, err := Pack(root, []string{p}, &buf); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want a refusal naming it", p, err)
		}
	}
}
