package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPackIsReproducibleAndRoundTrips(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "sub", ".git"), 0o755)
	os.WriteFile(filepath.Join(root, "model"), []byte("#!binary"), 0o755)
	os.WriteFile(filepath.Join(root, "sub", "omnetpp.ini"), []byte("[General]\n"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", ".git", "HEAD"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(root, "other"), []byte("not an artifact"), 0o644)
	os.Symlink("omnetpp.ini", filepath.Join(root, "sub", "link.ini"))

	var a, b bytes.Buffer
	shaA, sizeA, err := Pack(root, []string{"model", "sub"}, &a)
	if err != nil {
		t.Fatal(err)
	}
	// Touching times must not change the digest.
	os.Chtimes(filepath.Join(root, "model"), time0, time0)
	shaB, _, err := Pack(root, []string{"sub", "model", "./model"}, &b)
	if err != nil || shaA != shaB || sizeA != int64(a.Len()) {
		t.Fatalf("not reproducible: %s vs %s (%v)", shaA, shaB, err)
	}
	out := t.TempDir()
	if err := Extract(&a, out, DefaultLimit); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "sub", "link.ini")); string(data) != "[General]\n" {
		t.Fatalf("symlink not restored: %q", data)
	}
	if st, err := os.Stat(filepath.Join(out, "model")); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Fatalf("model lost its exec bit: %v", err)
	}
	for _, absent := range []string{"other", "sub/.git/HEAD"} {
		if _, err := os.Stat(filepath.Join(out, absent)); err == nil {
			t.Errorf("%s was packed", absent)
		}
	}
	if _, _, err := Pack(root, []string{"../etc"}, &bytes.Buffer{}); err == nil {
		t.Fatal("artifact outside the tree accepted")
	}
	if _, _, err := Pack(root, []string{"missing"}, &bytes.Buffer{}); err == nil {
		t.Fatal("missing artifact accepted")
	}
}

func archive(t *testing.T, entries ...*tar.Header) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = 2
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	gz.Close()
	return &buf
}

func TestExtractRefusesEscapes(t *testing.T) {
	for name, h := range map[string]*tar.Header{
		"dotdot":        {Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644},
		"nested dotdot": {Name: "a/../../evil", Typeflag: tar.TypeReg, Mode: 0o644},
		"absolute":      {Name: "/tmp/evil", Typeflag: tar.TypeReg, Mode: 0o644},
		"abs symlink":   {Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		"rel symlink":   {Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "../../etc"},
		"hard link":     {Name: "h", Typeflag: tar.TypeLink, Linkname: "x"},
		"device":        {Name: "d", Typeflag: tar.TypeChar},
		"block device":  {Name: "d", Typeflag: tar.TypeBlock},
		"fifo":          {Name: "p", Typeflag: tar.TypeFifo},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			err := Extract(archive(t, h), dir, DefaultLimit)
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("got %v, want ErrUnsafe", err)
			}
			if _, err := os.Stat(filepath.Join(parent, "evil")); err == nil {
				t.Fatal("wrote outside the directory")
			}
		})
	}
}

func TestExtractDoesNotFollowPlantedSymlink(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	victim := filepath.Join(parent, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	os.MkdirAll(dir, 0o755)
	os.Symlink(victim, filepath.Join(dir, "f"))
	if err := Extract(archive(t, &tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644}), dir, DefaultLimit); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep" {
		t.Fatal("extraction wrote through a symlink")
	}
}

func TestExtractBoundsSize(t *testing.T) {
	err := Extract(archive(t, &tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: 100}), t.TempDir(), 10)
	if err == nil {
		t.Fatal("size limit not enforced")
	}
	if err := Extract(bytes.NewReader([]byte("not gzip")), t.TempDir(), 10); err == nil {
		t.Fatal("garbage accepted")
	}
}

var time0 = time.Unix(12345, 0)
