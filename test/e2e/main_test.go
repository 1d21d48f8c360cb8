package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/simswarm/simswarm/test/testproc"
)

// Binaries built once for the whole package.
var (
	simswarmBin string
	fakesimBin  string
	repoRoot    string
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	dir, err := os.MkdirTemp("", "simswarm-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	simswarmBin = filepath.Join(dir, "simswarm")
	fakesimBin = filepath.Join(dir, "fakesim")
	for bin, pkg := range map[string]string{simswarmBin: "./cmd/simswarm", fakesimBin: "./test/fixtures/fakesim"} {
		// -trimpath as in `make build`, which CI runs first: the compiled
		// packages come from the build cache.
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	return testproc.Main(m)
}

// result of one simswarm invocation.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// simswarm runs the binary in dir and waits for it.
func simswarm(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runIn(t, dir, nil, simswarmBin, args...)
}

// runIn runs a program in dir with env (nil: inherit) and waits for it.
func runIn(t *testing.T, dir string, env []string, prog string, args ...string) result {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", filepath.Base(prog), args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// writeFile writes content to dir/name.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeCampaign writes a campaign whose model is fakesim with the given ini
// and returns the project directory.
func fakeCampaign(t *testing.T, ini, extraSpec string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "model/omnetpp.ini", ini)
	writeFile(t, dir, "campaign.yaml", fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: fake
spec:
  source:
    path: model
  build:
    command: ["true"]
  simulation:
    program: [%q]
%s`, fakesimBin, extraSpec))
	return dir
}
