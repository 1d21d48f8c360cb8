package omnetpp

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DefaultRoot is the per-machine cache that `make omnetpp` builds into.
const DefaultRoot = "/var/cache/simswarm-test/omnetpp-6.1.0"

// RootEnv names an OMNeT++ installation to use instead of DefaultRoot.
const RootEnv = "SIMSWARM_OMNETPP_ROOT"

// Install is a built OMNeT++ tree.
type Install struct {
	Root string
}

// Find returns the OMNeT++ installation the tests use. Without one it
// fails the test in CI and skips it elsewhere, saying how to get one.
func Find(t testing.TB) *Install {
	t.Helper()
	root, why := locate()
	if why == "" {
		return &Install{Root: root}
	}
	msg := "no OMNeT++ 6.1.0 for the tests against the real opp_run (" + why + "): run `make omnetpp` " +
		"(../shared/omnetpp/build.sh " + DefaultRoot + "), or set " + RootEnv + " to a built OMNeT++ whose samples aloha, tictoc and fifo are built"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil
}

func locate() (string, string) {
	root := os.Getenv(RootEnv)
	if root == "" {
		root = DefaultRoot
	}
	for _, p := range []string{"bin/opp_run", "bin/opp_runall", "samples/aloha/aloha", "samples/tictoc/tictoc", "samples/fifo/fifo"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			return "", root + " has no " + p
		}
	}
	return root, ""
}

// Bin is the path of an OMNeT++ tool, e.g. Bin("opp_runall").
func (i *Install) Bin(name string) string { return filepath.Join(i.Root, "bin", name) }

// Env is the process environment with OMNeT++'s bin first on PATH and its
// lib on LD_LIBRARY_PATH, as `. setenv` would leave it.
func (i *Install) Env() []string {
	env := make([]string, 0, len(os.Environ())+2)
	path, ld := os.Getenv("PATH"), os.Getenv("LD_LIBRARY_PATH")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			env = append(env, kv)
		}
	}
	join := func(first, rest string) string {
		if rest == "" {
			return first
		}
		return first + ":" + rest
	}
	return append(env, "PATH="+join(filepath.Join(i.Root, "bin"), path), "LD_LIBRARY_PATH="+join(filepath.Join(i.Root, "lib"), ld))
}

// Setenv puts OMNeT++'s bin first on the test's PATH and its lib on its
// LD_LIBRARY_PATH (as Env does, restored when the test ends), so that what
// the test starts with the plain environment - `simswarm run`, workers -
// finds opp_run and the samples' programs find their libraries.
func (i *Install) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range i.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" || k == "LD_LIBRARY_PATH" {
			t.Setenv(k, v)
		}
	}
}

// Sample copies samples/name (sources, ini files and the built program,
// without the object files in out/ and without results) into a fresh
// directory under t.TempDir() and returns it.
func (i *Install) Sample(t testing.TB, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	i.SampleAt(t, name, dst)
	return dst
}

// SampleAt copies samples/name as Sample does, to dst (made with its
// parents; a test keeps a model beside its manifests this way).
func (i *Install) SampleAt(t testing.TB, name, dst string) {
	t.Helper()
	src := filepath.Join(i.Root, "samples", name)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == "out" || rel == "results" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatalf("copy sample %s: %v", name, err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
