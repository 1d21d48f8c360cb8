package runidentity

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// On the real aloha sample: the runs of `-q runconfig` are those of
// `-q runs`; growing repeat from 2 to 4 keeps the identities of the first
// two repetitions of every point (under other run numbers) and gives the
// new ones new identities when seed-set = ${repetition}, and only of the
// runs whose number stays without seed-set (its default is ${runnumber});
// a changed value, or seed-set = ${runnumber}, changes them; a comment
// does not; -r selects runs without changing them.
func TestRealAlohaIdentities(t *testing.T) {
	omn := omnetpp.Find(t)
	dir := omn.Sample(t, "aloha")
	ini, err := os.ReadFile(filepath.Join(dir, "omnetpp.ini"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, from, to string) {
		t.Helper()
		if !strings.Contains(string(ini), from) {
			t.Fatalf("omnetpp.ini has no %q", from)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Replace(string(ini), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The sample sets no seed-set, whose default ${runnumber} seeds a run
	// by its number: as it is, growing repeat changes the runs whose
	// number moves.
	write("default4.ini", "repeat = 2", "repeat = 4")
	write("default.ini", "repeat = 2", "repeat = 2")
	write("omnetpp.ini", "repeat = 2", "repeat = 2\nseed-set = ${repetition}")
	if ini, err = os.ReadFile(filepath.Join(dir, "omnetpp.ini")); err != nil {
		t.Fatal(err)
	}
	write("repeat4.ini", "repeat = 2", "repeat = 4")
	write("comment.ini", "repeat = 2", "repeat = 2 # a comment\n# and a line of it")
	write("txrate.ini", "Aloha.txRate = 9.6kbps", "Aloha.txRate = 19.2kbps")
	write("seeds.ini", "repeat = 2", "repeat = 2\nseed-set = ${runnumber}")
	const cfg = "PureAlohaExperiment"
	in := Inputs{ArtifactKey: "k", Argv: []string{"./aloha"}, Config: cfg}
	query := func(argv []string) []Run {
		t.Helper()
		cmd := exec.Command("./aloha", argv...)
		var out, errb bytes.Buffer
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, omn.Env(), &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v: %s", argv, err, errb.String())
		}
		runs, err := Parse(&out)
		if err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
		return runs
	}
	// list names the runs as the builder and runall do: run 0's whole
	// configuration once, every run's details.
	ids := map[*Run]string{}
	list := func(ini, filter string) []Run {
		t.Helper()
		base := query(BaseArgv(nil, ini, cfg))
		runs := query(DetailsArgv(nil, ini, cfg, filter))
		if len(base) != 1 || base[0].Number != 0 || len(base[0].Entries) < 10 {
			t.Fatalf("%s: run 0's configuration is %+v", ini, base)
		}
		id := New(in).WithBase(base[0], runs[0])
		for i := range runs {
			ids[&runs[i]] = id.Of(runs[i])
		}
		return runs
	}
	idOf := func(r *Run) string { return ids[r] }
	byID := func(runs []Run) map[string]Run {
		m := map[string]Run{}
		for i, r := range runs {
			m[idOf(&runs[i])] = r
		}
		if len(m) != len(runs) {
			t.Fatalf("%d runs, %d identities", len(runs), len(m))
		}
		return m
	}

	two := list("omnetpp.ini", "")
	if len(two) != 42 || len(two[3].Entries) != 3 || two[3].Vars != "$numHosts=10, $iaMean=2, $repetition=1" {
		t.Fatalf("%d runs, run 3 is %+v", len(two), two[3])
	}
	listed, err := oppcli.QueryRuns(context.Background(), []string{"./aloha"}, dir, "omnetpp.ini", cfg, "", omn.Env())
	if err != nil || len(listed) != len(two) {
		t.Fatalf("-q runs: %d runs, %v", len(listed), err)
	}
	for i, r := range listed {
		if two[i].Number != r.Number || two[i].Vars != r.Vars {
			t.Fatalf("-q rundetails says %d %q, -q runs %d %q", two[i].Number, two[i].Vars, r.Number, r.Vars)
		}
	}
	twoIDs := byID(two)

	four := list("repeat4.ini", "")
	if len(four) != 84 {
		t.Fatalf("repeat 4: %d runs", len(four))
	}
	kept := 0
	for i, r := range four {
		old, ok := twoIDs[idOf(&four[i])]
		isOld := !strings.HasSuffix(r.Vars, "$repetition=2") && !strings.HasSuffix(r.Vars, "$repetition=3")
		if ok != isOld {
			t.Fatalf("repeat 4, run %d (%s): found among repeat 2's runs %v", r.Number, r.Vars, ok)
		}
		if ok {
			kept++
			if old.Vars != r.Vars {
				t.Fatalf("run %d (%s) has the identity of repeat 2's run %d (%s)", r.Number, r.Vars, old.Number, old.Vars)
			}
		}
	}
	if kept != 42 {
		t.Fatalf("%d of repeat 2's runs kept their identity", kept)
	}
	if four[5].Vars != two[3].Vars || idOf(&four[5]) != idOf(&two[3]) {
		t.Fatalf("repeat 4's run 5 is %s, repeat 2's run 3 %s", four[5].Vars, two[3].Vars)
	}

	// Without seed-set: only the runs whose number stays (point 0's
	// repetitions 0 and 1, runs 0 and 1 either way) keep their identity.
	defaultIDs := byID(list("default.ini", ""))
	d4 := list("default4.ini", "")
	for i, r := range d4 {
		if _, ok := defaultIDs[idOf(&d4[i])]; ok != (r.Number < 2) {
			t.Fatalf("default seed-set, repeat 4, run %d (%s): found among repeat 2's runs %v", r.Number, r.Vars, ok)
		}
	}

	comment := list("comment.ini", "")
	for i, r := range comment {
		if idOf(&comment[i]) != idOf(&two[i]) {
			t.Fatalf("a comment changed run %d's identity", r.Number)
		}
	}
	for _, ini := range []string{"txrate.ini", "seeds.ini"} {
		runs := list(ini, "")
		for i, r := range runs {
			if _, ok := twoIDs[idOf(&runs[i])]; ok {
				t.Fatalf("%s: run %d kept an identity of omnetpp.ini", ini, r.Number)
			}
		}
	}
	sel := list("omnetpp.ini", "3,7")
	if len(sel) != 2 || idOf(&sel[0]) != idOf(&two[3]) || idOf(&sel[1]) != idOf(&two[7]) {
		t.Fatalf("-r 3,7 gave %+v", sel)
	}
}
