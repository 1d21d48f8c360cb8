package local

import (
	"os"
	"path/filepath"
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
