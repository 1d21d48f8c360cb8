package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/procexec"
)

// TestResultRootFollowsTheProgramsIniOrder: with two ini files that set
// result-dir differently, the order OMNeT++ reads them in decides where
// the real program writes (every -f file first, then the positional ones;
// the first value wins): "per.ini -f flat.ini" writes into flat,
// "flat.ini -f per.ini" into per/<run>. The directory runall looks below
// (Resolve, then ResultRootOf, as cmd/simswarm runall does) is the one the
// program's files are in, not one widened by a value the program never
// uses.
func TestResultRootFollowsTheProgramsIniOrder(t *testing.T) {
	omn := omnetpp.Find(t)
	dir := t.TempDir()
	omn.SampleAt(t, "aloha", dir)
	for name, body := range map[string]string{
		"flat.ini": "[General]\nresult-dir = flat\n",
		"per.ini":  "[General]\nresult-dir = per/${runnumber}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, tc := range []struct{ positional, f, wantRoot string }{
		{"per.ini", "flat.ini", "flat"},
		{"flat.ini", "per.ini", "per"},
	} {
		args := []string{"./aloha", tc.positional, "-f", tc.f, "-f", "omnetpp.ini", "-c", "PureAloha1", "--sim-time-limit=1s"}
		inv, err := oppcli.ParseInvocation(args)
		if err != nil {
			t.Fatal(err)
		}
		res := procexec.Run(ctx, procexec.Cmd{Argv: append(inv.BatchArgs(), "-r", "0"), Dir: dir, Env: omn.Env()})
		if !res.Success() {
			t.Fatalf("%q: %s: %s", args, res.Describe(), res.StderrTail)
		}
		var written []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".sca") {
				rel, _ := filepath.Rel(dir, p)
				written = append(written, rel)
				os.Remove(p)
			}
			return nil
		})
		resolved, err := Resolve(ctx, inv, dir, omn.Env(), nil)
		if err != nil {
			t.Fatal(err)
		}
		root := resolved.ResultRoot
		if len(written) != 1 || !strings.HasPrefix(written[0], tc.wantRoot+"/") || root != tc.wantRoot {
			t.Errorf("%q: the program wrote %q, runall looks below %q, want %q", args, written, root, tc.wantRoot)
		}
	}
}
