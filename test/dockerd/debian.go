package dockertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
)

// DebianSuite is the Debian release test images are built from.
const DebianSuite = "bookworm"

// DebianMirror is where debootstrap fetches packages (Debian's own archive:
// the only package source besides the Go proxy these machines may use).
const DebianMirror = "http://deb.debian.org/debian"

// cacheDir holds debootstrapped root filesystems between test runs on
// one machine: $SIMSWARM_TEST_CACHE, default /var/cache/simswarm-test.
func cacheDir() string {
	if d := os.Getenv("SIMSWARM_TEST_CACHE"); d != "" {
		return d
	}
	return "/var/cache/simswarm-test"
}

// DebianRootfs returns the path of a tar of a minimal Debian root file
// system with the given extra packages. It is built once per machine with
// debootstrap (a few minutes; needs Debian's archive) and cached; concurrent
// tests wait for one build through a lock file.
func DebianRootfs(t testing.TB, packages ...string) string {
	t.Helper()
	pkgs := append([]string(nil), packages...)
	sort.Strings(pkgs)
	sum := sha256.Sum256([]byte(DebianSuite + "\n" + strings.Join(pkgs, ",")))
	key := DebianSuite + "-" + hex.EncodeToString(sum[:6])
	dir := cacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "debian-"+key+".tar")
	lock, err := os.OpenFile(tarPath+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(tarPath); err == nil {
		return tarPath
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Fatalf("debootstrap not installed (make deps): %v", err)
	}
	root, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	args := []string{"--variant=minbase"}
	if len(pkgs) > 0 {
		args = append(args, "--include="+strings.Join(pkgs, ","))
	}
	args = append(args, DebianSuite, filepath.Join(root, "fs"), DebianMirror)
	if out, err := exec.CommandContext(ctx, "debootstrap", args...).CombinedOutput(); err != nil {
		t.Fatalf("debootstrap %v: %v\n%s", args, err, tail(out, 3000))
	}
	// apt caches are dead weight in an image.
	_ = os.RemoveAll(filepath.Join(root, "fs", "var/cache/apt/archives"))
	tmp := filepath.Join(root, "rootfs.tar")
	if out, err := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", filepath.Join(root, "fs"), "-cf", tmp, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar rootfs: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, tarPath); err != nil {
		t.Fatal(err)
	}
	t.Logf("built Debian %s rootfs with %v in %v (cached as %s)", DebianSuite, pkgs, time.Since(start), tarPath)
	return tarPath
}

// ImportDebianImage imports a Debian root file system with the given
// packages (see DebianRootfs) as image ref, with changes applied
// (Dockerfile instructions such as ENV or ENTRYPOINT).
func (d *Daemon) ImportDebianImage(t testing.TB, ref string, packages []string, changes ...string) {
	t.Helper()
	path := DebianRootfs(t, packages...)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := d.Client.ImageImport(context.Background(), image.ImportSource{Source: f, SourceName: "-"}, ref,
		image.ImportOptions{Changes: append([]string{"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, changes...)})
	if err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return fmt.Sprintf("...%s", b)
}
