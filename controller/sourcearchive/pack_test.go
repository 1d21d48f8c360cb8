package sourcearchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func tree(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for name, data := range map[string]string{"Makefile": "all:\n", "src/a.c": "int a;\n", ".git/HEAD": "x", "results/old.sca": "x", "sub/results/keep.txt": "k"} {
		p := filepath.Join(d, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("src/a.c", filepath.Join(d, "link.c"))
	return d
}

func TestPackIsReproducibleAndSkipsGitAndResults(t *testing.T) {
	d := tree(t)
	var a, b bytes.Buffer
	sha1, n1, err := Pack(d, &a)
	if err != nil {
		t.Fatal(err)
	}
	// Touch everything: times must not matter.
	later := time.Now().Add(time.Hour)
	filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error { os.Chtimes(p, later, later); return nil })
	sha2, n2, err := Pack(d, &b)
	if err != nil {
		t.Fatal(err)
	}
	if sha1 != sha2 || n1 != n2 || !bytes.Equal(a.Bytes(), b.Bytes()) || n1 != int64(a.Len()) {
		t.Fatalf("not reproducible: %s/%d vs %s/%d", sha1, n1, sha2, n2)
	}
	zr, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "link.c" && (h.Typeflag != tar.TypeSymlink || h.Linkname != "src/a.c") {
			t.Fatalf("symlink stored as %v -> %q", h.Typeflag, h.Linkname)
		}
	}
	want := []string{"Makefile", "link.c", "src/", "src/a.c", "sub/", "sub/results/", "sub/results/keep.txt"}
	if len(names) != len(want) {
		t.Fatalf("entries = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("entries = %v, want %v", names, want)
		}
	}
}
