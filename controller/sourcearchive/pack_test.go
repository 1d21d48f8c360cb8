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

// A Campaign manifest inside its own source is not part of it: editing
// the manifest (more runs, another priority) must not make the source, and
// so the build and every run's identity, another. Other YAML and JSON
// files are the model's.
func TestPackLeavesOutCampaignManifests(t *testing.T) {
	d := tree(t)
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(d, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("scenario.yaml", "nodes: 10\n")
	write("params.json", `{"rate": 1}`)
	sha := func() string {
		t.Helper()
		s, _, err := Pack(d, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ref := sha()
	write("campaign.yaml", "# the sweep\napiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: a}\n")
	write("sub/more.yml", "---\napiVersion: \"simswarm.io/v1alpha1\"\nkind: Campaign\n")
	write("sub/c.json", `{"apiVersion":"simswarm.io/v1alpha1","kind":"Campaign"}`)
	if got := sha(); got != ref {
		t.Fatal("adding campaign manifests changed the source's digest")
	}
	write("campaign.yaml", "apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: a}\nspec: {priority: 5}\n")
	if got := sha(); got != ref {
		t.Fatal("editing a campaign manifest changed the source's digest")
	}
	write("scenario.yaml", "nodes: 20\n")
	if sha() == ref {
		t.Fatal("editing the model's own YAML left the source's digest as it was")
	}
	write("scenario.yaml", "nodes: 10\n")
	write("params.json", `{"rate": 2}`)
	if sha() == ref {
		t.Fatal("editing the model's own JSON left the source's digest as it was")
	}
}
