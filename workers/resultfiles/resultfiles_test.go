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
