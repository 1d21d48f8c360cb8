package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dockertest "github.com/simswarm/simswarm/test/dockerd"
)

// TestSimswarmImageBuildsAndRuns builds the Dockerfile exactly as the
// documentation says (context: a directory holding the static binary) on
// a private engine, without any registry, and runs the image.
func TestSimswarmImageBuildsAndRuns(t *testing.T) {
	d := dockertest.Start(t)
	ctxDir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctxDir, "simswarm"), "github.com/simswarm/simswarm/cmd/simswarm")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dockerfile, err := filepath.Abs("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// The legacy builder: BuildKit (buildx) is not part of Debian's docker.io.
	t.Setenv("DOCKER_BUILDKIT", "0")
	d.CLI(t, "build", "-q", "-f", dockerfile, "-t", "simswarm-test/image:1", ctxDir)
	out := d.CLI(t, "run", "--rm", "--network", "none", "simswarm-test/image:1", "--help")
	if !strings.Contains(out, "simswarm") || !strings.Contains(out, "stack") {
		t.Errorf("simswarm --help in the image:\n%s", out)
	}
	out = d.CLI(t, "run", "--rm", "--network", "none", "--entrypoint", "/usr/local/bin/simswarm", "simswarm-test/image:1", "stack", "render", "--node", "manager:4")
	if !strings.Contains(out, "version: \"3.8\"") {
		t.Errorf("stack render in the image:\n%s", out)
	}
}
