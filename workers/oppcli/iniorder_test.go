package oppcli

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/procexec"
)

// TestIniFilesInTheProgramsOrder: OMNeT++ reads every -f file first and
// the positional ini files after (src/envir/startup.cc), and the first
// value of an option in a section wins. With the same two files, the order
// decides where the real program writes its results: "per.ini -f flat.ini"
// writes into flat (flat.ini is read first), "flat.ini -f per.ini" into
// per/<run>. simswarm lists the ini files in that order (where runall
// looks for the files: workers/local TestResultRootFollowsTheProgramsIniOrder).
func TestIniFilesInTheProgramsOrder(t *testing.T) {
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
	for _, tc := range []struct {
		positional, f string
		wantInis      []string
		wantRoot      string
	}{
		{"per.ini", "flat.ini", []string{"flat.ini", "omnetpp.ini", "per.ini"}, "flat"},
		{"flat.ini", "per.ini", []string{"per.ini", "omnetpp.ini", "flat.ini"}, "per"},
	} {
		args := []string{"./aloha", tc.positional, "-f", tc.f, "-f", "omnetpp.ini", "-c", "PureAloha1", "--sim-time-limit=1s"}
		inv, err := ParseInvocation(args)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(inv.IniFiles, tc.wantInis) {
			t.Errorf("%q: ini files %q, want the program's order %q", args, inv.IniFiles, tc.wantInis)
		}
		// Where the program itself writes run 0's files.
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
		if len(written) != 1 || !strings.HasPrefix(written[0], tc.wantRoot+"/") {
			t.Errorf("%q: the program wrote %q, want below %q", args, written, tc.wantRoot)
		}
	}
}
