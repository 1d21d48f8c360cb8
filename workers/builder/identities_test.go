package builder

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/runlist"
)

// identitiesOf builds (or finds) key for the campaign's simulation and
// returns its run list with the identities.
func identitiesOf(t *testing.T, h *Handler, key string, src api.SourceSpec, b api.BuildSpec, sim api.SimulationSpec) (*runlist.Record, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	p, _ := json.Marshal(schema.BuildTask{Campaign: "c", UID: "u", Key: key, Source: src, Build: b, Simulation: &sim})
	if err := h.ProcessTask(ctx, asynq.NewTask(schema.TypeBuild, p)); err != nil {
		t.Fatal(err)
	}
	rec, err := runlist.Get(ctx, h.DB, runlist.ID(key, runlist.QueryOf(sim)))
	if err != nil || rec == nil || rec.State != runlist.StateSucceeded {
		t.Fatalf("run list of %s: %+v, %v", key, rec, err)
	}
	x, err := runlist.ReadIdentities(ctx, h.DB, rec)
	if err != nil {
		t.Fatal(err)
	}
	nums, err := runlist.Numbers(ctx, h.DB, rec)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, n := range nums {
		if id, ok := x.Of(n); ok {
			ids[id] = true
		}
	}
	return rec, ids
}

// TestRunListsCarryIdentities, on the real aloha sample: the builder
// records each listed run's identity with the run list. A second commit
// that only grows repeat from 2 to 4 is another build (another key, a new
// artifact), yet the runs it shares with the first keep their identities;
// a cache hit lists them the same way; a changed recipe changes them all;
// a program that cannot answer -q runconfig still gets its run list,
// without identities and with the reason.
func TestRunListsCarryIdentities(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	d := db(t)
	repo := omn.Sample(t, "aloha")
	// seed-set defaults to ${runnumber}, which moves when repeat grows:
	// only with seeds by repetition are repeat 2's runs among repeat 4's.
	ini, _ := os.ReadFile(filepath.Join(repo, "omnetpp.ini"))
	ini = []byte(strings.Replace(string(ini), "repeat = 2", "repeat = 2\nseed-set = ${repetition}", 1))
	os.WriteFile(filepath.Join(repo, "omnetpp.ini"), ini, 0o644)
	git(t, repo, "init", "-q")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "repeat 2")
	os.WriteFile(filepath.Join(repo, "omnetpp.ini"), []byte(strings.Replace(string(ini), "repeat = 2", "repeat = 4", 1)), 0o644)
	git(t, repo, "commit", "-qam", "repeat 4")
	first := git(t, repo, "rev-parse", "HEAD~1")
	at := func(commit string) api.SourceSpec {
		return api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: commit}}
	}
	files := []string{"aloha", "omnetpp.ini", "Aloha.ned", "Host.ned", "Server.ned", "package.ned"}
	b := api.BuildSpec{Prebuilt: true, Artifacts: files}
	sim := api.SimulationSpec{Program: []string{"./aloha"}, IniFile: "omnetpp.ini", Config: "PureAlohaExperiment"}
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b"}

	rec2, two := identitiesOf(t, h, "k2", at(first), b, sim)
	if !rec2.Identified || rec2.Count != 42 || len(two) != 42 {
		t.Fatalf("repeat 2: %+v, %d identities", rec2, len(two))
	}
	rec4, four := identitiesOf(t, h, "k4", at("HEAD"), b, sim)
	if rec4.Count != 84 || len(four) != 84 {
		t.Fatalf("repeat 4: %+v, %d identities", rec4, len(four))
	}
	for id := range two {
		if !four[id] {
			t.Fatal("a run of repeat 2 has another identity under repeat 4")
		}
	}
	// A cache hit (k2 again, for a filter this time) lists from the
	// stored artifact with the stored model key.
	filtered := sim
	filtered.Runs = "$numHosts==10"
	recf, some := identitiesOf(t, h, "k2", at(first), b, filtered)
	if recf.Count != 14 || len(some) != 14 {
		t.Fatalf("cache hit with a filter: %+v, %d identities", recf, len(some))
	}
	for id := range some {
		if !two[id] {
			t.Fatal("a run listed on a cache hit has another identity")
		}
	}
	other := b
	other.Artifacts = append([]string{"README.txt"}, files...)
	_, changed := identitiesOf(t, h, "k5", at(first), other, sim)
	for id := range changed {
		if two[id] {
			t.Fatal("another recipe kept a run's identity")
		}
	}

	// A list beyond the bound has no identities, and says why.
	small := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b", MaxIdentifiedRuns: 41}
	recb, none := identitiesOf(t, small, "k6", at(first), other, sim)
	if recb.Count != 42 || recb.Identified || len(none) != 0 || !strings.Contains(recb.IdentityError, "42 runs, more than the 41") {
		t.Fatalf("a list beyond the bound: %+v, %d identities", recb, len(none))
	}

	// A stand-in that knows only -q runs (as the C aloha example does).
	sh := t.TempDir()
	git(t, sh, "init", "-q")
	os.WriteFile(filepath.Join(sh, "sim"), []byte(`#!/bin/sh
case "$*" in *runconfig*) echo "<!> Error: unknown query runconfig" >&2; exit 1;; esac
`+strings.TrimPrefix(listSim, "#!/bin/sh\n")), 0o755)
	os.WriteFile(filepath.Join(sh, "omnetpp.ini"), []byte("[General]\n"), 0o644)
	git(t, sh, "add", ".")
	git(t, sh, "commit", "-qm", "x")
	rec, ids := identitiesOf(t, h, "ksh", api.SourceSpec{Git: &api.GitSource{URL: sh, Commit: "HEAD"}}, api.BuildSpec{Prebuilt: true},
		api.SimulationSpec{Program: []string{"./sim"}})
	if rec.Count != 2 || rec.Identified || len(ids) != 0 || !strings.Contains(rec.IdentityError, "-q runconfig") {
		t.Fatalf("a program without -q runconfig: %+v, %d identities", rec, len(ids))
	}
}

// TestRebuildsOfOneModelShareItsKey: OMNeT++ builds are not reproducible
// (the build directory's path is compiled into the program, and every
// build has a directory of its own), so two builds of sources that differ
// only in an ini file give artifacts that differ; the model key, on which
// run identities rest, is the same. A changed source file changes it.
func TestRebuildsOfOneModelShareItsKey(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	d := db(t)
	repo := omn.Sample(t, "aloha")
	os.Remove(filepath.Join(repo, "aloha"))
	git(t, repo, "init", "-q")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "one")
	ini, _ := os.ReadFile(filepath.Join(repo, "omnetpp.ini"))
	os.WriteFile(filepath.Join(repo, "omnetpp.ini"), append(ini, "\n[Extra]\nrepeat = 3\n"...), 0o644)
	git(t, repo, "commit", "-qam", "two")
	cc, _ := os.ReadFile(filepath.Join(repo, "Host.cc"))
	os.WriteFile(filepath.Join(repo, "Host.cc"), append(cc, "\n// a comment\n"...), 0o644)
	git(t, repo, "commit", "-qam", "three")
	b := api.BuildSpec{Command: []string{"make", "MODE=release"}, Artifacts: []string{"aloha", "omnetpp.ini"}}
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b", Jobs: 2}
	rec := map[string]schema.BuildRecord{}
	for i, commit := range []string{"HEAD~2", "HEAD~1", "HEAD"} {
		key := []string{"one", "two", "three"}[i]
		if err := h.ProcessTask(context.Background(), buildTask(key, api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: commit}}, b)); err != nil {
			t.Fatal(err)
		}
		rec[key] = buildRecord(t, d, key)
		if rec[key].State != schema.BuildSucceeded || rec[key].ModelKey == "" {
			t.Fatalf("build %s: %+v", key, rec[key])
		}
	}
	if rec["one"].SHA256 == rec["two"].SHA256 {
		t.Log("the two builds gave the same artifact (reproducible here)")
	}
	if rec["one"].ModelKey != rec["two"].ModelKey {
		t.Fatal("builds differing only in omnetpp.ini have different model keys")
	}
	if rec["one"].ModelKey == rec["three"].ModelKey {
		t.Fatal("a changed source file kept the model key")
	}
}
