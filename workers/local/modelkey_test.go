package local

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/workers/oppcli"
)

// TestModelKeyFollowsTheLibraryInEitherForm: -l model and -lmodel load the
// same library (libmodel.so or model.so, where opp_run looks), and a
// rebuilt library is another model, so its runs are not "already complete".
func TestModelKeyFollowsTheLibraryInEitherForm(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("prog", "#!/bin/sh\n")
	write("omnetpp.ini", "[General]\n")
	for i, args := range [][]string{{"./prog", "-l", "model"}, {"./prog", "-lmodel"}} {
		for _, lib := range []string{"libmodel.so", "model.so"} {
			write(lib, "v1")
			inv, err := oppcli.ParseInvocation(args)
			if err != nil {
				t.Fatal(err)
			}
			key := func() string {
				k, err := modelKey(inv, dir, []string{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return k
			}
			before := key()
			write(lib, "rebuilt"+strings.Repeat("!", i))
			if key() == before {
				t.Errorf("%q: the key did not follow the rebuilt %s", args, lib)
			}
			os.Remove(filepath.Join(dir, lib))
		}
	}
}

// TestTheModelIsNamedTheSameHoweverItIsSpelled: the program and its -l
// libraries go into a run's identity by their place as seen from the
// working directory, whether the directory and they are spelled relative
// or absolute; a program found on PATH stays a name.
func TestTheModelIsNamedTheSameHoweverItIsSpelled(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	for _, d := range []string{dir, filepath.Join(parent, "inet", "src")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(parent)
	want := []string{"./sim", "-l", "../inet/src/INET", "-l../inet/src/INET", "-c", "X"}
	for _, tc := range []struct {
		dir  string
		argv []string
	}{
		{"model", []string{"./sim", "-l", "../inet/src/INET", "-l../inet/src/INET", "-c", "X"}},
		{dir, []string{"./sim", "-l", "../inet/src/INET", "-l../inet/src/INET", "-c", "X"}},
		{dir, []string{filepath.Join(dir, "sim"), "-l", filepath.Join(parent, "inet", "src", "INET"), "-l" + filepath.Join(parent, "inet/src/INET"), "-c", "X"}},
		{"model", []string{"sim", "-l", "./../inet/src/INET", "-l../inet/src/../src/INET", "-c", "X"}},
	} {
		got := stableArgv(tc.argv, tc.dir)
		w := slices.Clone(want)
		if !strings.ContainsRune(tc.argv[0], '/') {
			w[0] = "sim" // looked up on PATH
		}
		if !slices.Equal(got, w) {
			t.Errorf("stableArgv(%q, %q) = %q, want %q", tc.argv, tc.dir, got, w)
		}
	}
	// The NED directory and the program's place in the model key.
	if err := os.WriteFile(filepath.Join(dir, "sim"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Net.ned"), []byte("network Net {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := func(dir, prog string) string {
		inv, err := oppcli.ParseInvocation([]string{prog, "-c", "X"})
		if err != nil {
			t.Fatal(err)
		}
		k, err := modelKey(inv, dir, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k := key("model", "./sim")
	if k2 := key(dir, "./sim"); k2 != k {
		t.Errorf("model key with -C %s differs from -C model", dir)
	}
	if k3 := key("model", filepath.Join(dir, "sim")); k3 != k {
		t.Errorf("model key with the program's absolute path differs")
	}
}
