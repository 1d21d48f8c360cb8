package dockertest

import (
	"archive/tar"
	"bufio"
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

// rootfs collects the files of an image to import.
type rootfs struct {
	files map[string]rootfsEntry // path without leading "/"
}

type rootfsEntry struct {
	data []byte
	mode int64
	link string // hard link target, if set
}

func newRootfs() *rootfs {
	return &rootfs{files: map[string]rootfsEntry{}}
}

func clean(p string) string { return strings.TrimPrefix(filepath.Clean("/"+p), "/") }

func (r *rootfs) add(path string, data []byte, mode int64) {
	r.files[clean(path)] = rootfsEntry{data: data, mode: mode}
}
func (r *rootfs) link(path, target string) {
	r.files[clean(path)] = rootfsEntry{link: clean(target), mode: 0o755}
}

// tar writes the tree: /tmp, every parent directory, then the files
// (regular files before the hard links that point at them).
func (r *rootfs) tar() (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var names []string
	for name := range r.files {
		names = append(names, name)
		for dir := filepath.Dir(name); dir != "."; dir = filepath.Dir(dir) {
			dirs[dir] = true
		}
	}
	var dirList []string
	for dir := range dirs {
		dirList = append(dirList, dir)
	}
	sort.Strings(dirList) // parents sort before children
	sort.Slice(names, func(i, j int) bool {
		li, lj := r.files[names[i]].link != "", r.files[names[j]].link != ""
		if li != lj {
			return !li
		}
		return names[i] < names[j]
	})
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}); err != nil {
		return nil, err
	}
	for _, dir := range dirList {
		if dir == "tmp" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755}); err != nil {
			return nil, err
		}
	}
	for _, name := range names {
		e := r.files[name]
		if e.link != "" {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: e.link, Mode: e.mode}); err != nil {
				return nil, err
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: e.mode, Size: int64(len(e.data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

// importRootfs imports r as image ref with the given Dockerfile changes.
func (d *Daemon) importRootfs(t testing.TB, ref string, r *rootfs, changes ...string) {
	t.Helper()
	buf, err := r.tar()
	if err != nil {
		t.Fatalf("image %s: %v", ref, err)
	}
	rc, err := d.Client.ImageImport(context.Background(),
		image.ImportSource{Source: buf, SourceName: "-"}, ref, image.ImportOptions{Changes: changes})
	if err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
}

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
	r := newRootfs()
	r.add("/app", data, 0o755)
	for _, a := range aliases {
		r.link(a, "/app")
	}
	d.importRootfs(t, ref, r, `ENTRYPOINT ["/app"]`)
}

// ImportHostBinaries imports an image holding the given host executables
// (absolute paths, e.g. /usr/bin/redis-server) at the same paths, with the
// shared libraries and the dynamic loader ldd reports for them. The image
// has no entrypoint: a service's args name the program.
func (d *Daemon) ImportHostBinaries(t testing.TB, ref string, bins ...string) {
	t.Helper()
	r := newRootfs()
	for _, bin := range bins {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatalf("image %s: %v", ref, err)
		}
		r.add(bin, data, 0o755)
		out, err := exec.Command("ldd", bin).Output()
		if err != nil {
			t.Fatalf("ldd %s: %v", bin, err)
		}
		for _, lib := range lddPaths(out) {
			data, err := os.ReadFile(lib) // follows symlinks: the file lands at the path the loader asks for
			if err != nil {
				t.Fatalf("image %s: %v", ref, err)
			}
			r.add(lib, data, 0o755)
		}
	}
	d.importRootfs(t, ref, r)
}

// lddPaths extracts the absolute library paths from ldd output.
func lddPaths(out []byte) []string {
	var paths []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			if strings.HasPrefix(f, "/") {
				paths = append(paths, f)
			}
		}
	}
	return paths
}
