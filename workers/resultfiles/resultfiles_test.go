package resultfiles

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSafeName(t *testing.T) {
	for name, want := range map[string]bool{
		"PureAloha-numHosts=10-#0.sca": true, "a.vec": true,
		"": false, ".": false, "..": false, "../x": false, "/etc/passwd": false, `a\b`: false,
		".simswarm": false, ".simswarm-x": false, "a\x00b": false, string(make([]byte, 256)): false,
	} {
		if got := SafeName(name); got != want {
			t.Errorf("SafeName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMatchOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "results")
	os.MkdirAll(filepath.Join(res, "sub.sca"), 0o755)
	os.WriteFile(filepath.Join(res, "b.sca"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(res, "a.vec"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(res, "x.log"), []byte("x"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(res, "evil.sca"))
	got, err := Match(dir, []string{"results/*.sca", "results/*.vec", "results/*.sca"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(res, "a.vec"), filepath.Join(res, "b.sca")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := Match(dir, []string{"results/[.sca"}); err == nil {
		t.Fatal("bad glob accepted")
	}
}

// TestMatchCreatedFollowsNoLink: only files that sit in the tree count;
// a link to a file or to a directory outside (a run tree's inputs are
// links into a shared cache) is never followed, and names keep their
// paths below the glob's leading directories.
func TestMatchCreatedFollowsNoLink(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(outside, "cached.sca"), []byte("x"), 0o644)
	cwd := filepath.Join(root, "sim")
	os.MkdirAll(filepath.Join(cwd, "results", "Cfg", "x=1"), 0o755)
	os.WriteFile(filepath.Join(cwd, "results", "Cfg", "x=1", "rep0.sca"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(cwd, "results", "a.sca"), []byte("x"), 0o644)
	os.Symlink(filepath.Join(outside, "cached.sca"), filepath.Join(cwd, "results", "link.sca"))
	os.Symlink(outside, filepath.Join(cwd, "results", "Linked"))
	got, err := MatchCreated(root, cwd, []string{"results/*.sca", "results/*/*.sca", "results/*/*/*.sca"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Name)
	}
	if want := []string{"Cfg/x=1/rep0.sca", "a.sca"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("got %q, want %q", names, want)
	}
}
