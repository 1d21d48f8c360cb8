package dockertest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// OMNeTppPackages are the Debian packages of an OMNeT++ toolchain image:
// what building a model (g++, make, python3 for opp_makemake), compiling
// for a builder (distcc) and running OMNeT++'s libraries (SQLite, libxml2,
// zlib) need. The same list as cmd/simswarm/omnetpp.Dockerfile installs,
// so that Dockerfile finds them all in a debootstrapped base and installs
// nothing.
var OMNeTppPackages = []string{"distcc", "g++", "libsqlite3-0", "libxml2", "make", "python3", "zlib1g"}

var cacheName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// CachedImage gives the engine image ref, made by build on the first use
// on this machine and saved (docker save) under name and a key of the
// inputs (the contents that decide the image: a Dockerfile, the version of
// what it copies); later calls with the same inputs load the saved image
// instead of building it. Another key replaces the saved image of that
// name. Concurrent tests wait for one build through a lock file.
func (d *Daemon) CachedImage(t testing.TB, ref, name string, inputs []string, build func()) {
	t.Helper()
	if !cacheName.MatchString(name) {
		t.Fatalf("cached image name %q: want lower-case letters, digits and dashes", name)
	}
	sum := sha256.Sum256([]byte(ref + "\n" + strings.Join(inputs, "\n")))
	dir := filepath.Join(cacheDir(), "built-images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, name+"-"+hex.EncodeToString(sum[:8])+".tar")
	lock, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	start := time.Now()
	if _, err := os.Stat(tarPath); err == nil {
		if err := loadImages(t.Context(), d.Client, tarPath); err != nil {
			t.Fatalf("cached image %s: %v", ref, err)
		}
		t.Logf("loaded image %s from %s in %v", ref, tarPath, time.Since(start).Round(time.Millisecond))
		return
	}
	build()
	if t.Failed() {
		return
	}
	old, _ := filepath.Glob(filepath.Join(dir, name+"-*.tar"))
	for _, o := range old {
		_ = os.Remove(o)
	}
	if err := saveImages(t.Context(), d.Client, []string{ref}, tarPath); err != nil {
		t.Fatalf("cache image %s: %v", ref, err)
	}
	t.Logf("built image %s in %v (cached as %s)", ref, time.Since(start).Round(time.Millisecond), tarPath)
}
