package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
)

// ImportGoImage builds the Go main package pkg (a path the go tool
// understands) as a static binary and imports it as image ref, with the
// binary as /app and as the entrypoint, and hard links to it at the
// absolute paths in aliases (e.g. "/usr/bin/distccd", so a spec's Command
// override finds it). No registry and no base image are needed.
func (d *Daemon) ImportGoImage(t testing.TB, ref, pkg string, aliases ...string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "app")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"tmp/", "etc/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o1777}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "app", Mode: 0o755, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]bool{"tmp/": true, "etc/": true}
	for _, a := range aliases {
		name := strings.TrimPrefix(filepath.Clean(a), "/")
		for dir := filepath.Dir(name); dir != "."; dir = filepath.Dir(dir) {
			if !dirs[dir+"/"] {
				dirs[dir+"/"] = true
			}
		}
	}
	var extra []string
	for dir := range dirs {
		if dir != "tmp/" && dir != "etc/" {
			extra = append(extra, dir)
		}
	}
	sort.Strings(extra) // parents sort before children
	for _, dir := range extra {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range aliases {
		name := strings.TrimPrefix(filepath.Clean(a), "/")
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: "app", Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Client.ImageImport(context.Background(),
		image.ImportSource{Source: &buf, SourceName: "-"}, ref,
		image.ImportOptions{Changes: []string{`ENTRYPOINT ["/app"]`}})
	if err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
}
