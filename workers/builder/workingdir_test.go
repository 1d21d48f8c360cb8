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
	"github.com/simswarm/simswarm/workers/runlist"
)

// listSim stands in for a model program: it lists two runs, and only where
// its ini is (as opp_run fails without it).
const listSim = `#!/bin/sh
[ -f omnetpp.ini ] || { echo "<!> Error: Cannot open ini file omnetpp.ini" >&2; exit 1; }
echo 'Run 0: $x=1, $repetition=0'
echo 'Run 1: $x=2, $repetition=0'
`

// TestWorkingDirMustBeInTheArtifacts: the runs of a model laid out as a
// framework and a network beside it (bin/, net/) start in workingDir inside
// the build's artifacts. The builder lists them there; a workingDir the
// artifacts leave out (the source tree has it, the artifacts do not) fails
// the run list with a message naming the field - on a fresh build and on a
// cache hit (listed from the stored artifact) - instead of listing runs
// that no runner can start; so does an ini file the artifacts leave out.
func TestWorkingDirMustBeInTheArtifacts(t *testing.T) {
	d := db(t)
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.MkdirAll(filepath.Join(repo, "bin"), 0o755)
	os.MkdirAll(filepath.Join(repo, "net"), 0o755)
	os.MkdirAll(filepath.Join(repo, "docs"), 0o755)
	os.WriteFile(filepath.Join(repo, "bin", "sim"), []byte(listSim), 0o755)
	os.WriteFile(filepath.Join(repo, "net", "omnetpp.ini"), []byte("[General]\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "net", "README"), []byte("the network\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "docs", "omnetpp.ini"), []byte("[General]\n"), 0o644)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "x")
	src := api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}}
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b"}
	ctx := context.Background()

	list := func(key string, b api.BuildSpec, wd string) *runlist.Record {
		t.Helper()
		sim := api.SimulationSpec{Program: []string{"../bin/sim"}, WorkingDir: wd, IniFile: "omnetpp.ini", Config: "General"}
		p, _ := json.Marshal(schema.BuildTask{Campaign: "c", UID: "u", Key: key, Source: src, Build: b, Simulation: &sim})
		if err := h.ProcessTask(ctx, asynq.NewTask(schema.TypeBuild, p)); err != nil {
			t.Fatal(err)
		}
		rec, err := runlist.Get(ctx, d, runlist.ID(key, runlist.QueryOf(sim)))
		if err != nil || rec == nil {
			t.Fatalf("run list of %s in %s: %v, %v", key, wd, rec, err)
		}
		return rec
	}

	both := api.BuildSpec{Prebuilt: true, Artifacts: []string{"bin", "net"}}
	if rec := list("kboth", both, "net"); rec.State != runlist.StateSucceeded || rec.Count != 2 {
		t.Fatalf("workingDir net in the artifacts: %+v", rec)
	}
	want := `spec.simulation.workingDir "docs" is not a directory in the build's artifacts`
	if rec := list("kboth", both, "docs"); rec.State != runlist.StateFailed || !strings.Contains(rec.Error, want) {
		t.Fatalf("cache hit, workingDir docs outside the artifacts: %+v, want failed with %q", rec, want)
	}
	// The runs are listed where runners start them: in the artifacts. An
	// ini file that only the source tree has gives the program's refusal,
	// not runs that would all fail on the runners.
	noIni := api.BuildSpec{Prebuilt: true, Artifacts: []string{"bin", "net/README"}}
	want = "Cannot open ini file omnetpp.ini"
	if rec := list("knoini", noIni, "net"); rec.State != runlist.StateFailed || !strings.Contains(rec.Error, want) {
		t.Fatalf("fresh build, ini outside the artifacts: %+v, want failed with %q", rec, want)
	}
	binOnly := api.BuildSpec{Prebuilt: true, Artifacts: []string{"bin"}}
	want = `spec.simulation.workingDir "net" is not a directory in the build's artifacts`
	if rec := list("kbin", binOnly, "net"); rec.State != runlist.StateFailed || !strings.Contains(rec.Error, want) {
		t.Fatalf("fresh build, workingDir net outside the artifacts: %+v, want failed with %q", rec, want)
	}
}

// TestArtifactRunnersWouldRefuseFailsTheBuild: a build whose artifacts
// hold a link out of the tree (here to /usr/lib, as a build may leave one)
// fails with the unpacker's reason, instead of succeeding with an
// artifact that every runner refuses run by run.
func TestArtifactRunnersWouldRefuseFailsTheBuild(t *testing.T) {
	d := db(t)
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.MkdirAll(filepath.Join(repo, "bin"), 0o755)
	os.WriteFile(filepath.Join(repo, "bin", "sim"), []byte(listSim), 0o755)
	os.WriteFile(filepath.Join(repo, "omnetpp.ini"), []byte("[General]\n"), 0o644)
	if err := os.Symlink("/usr/lib", filepath.Join(repo, "bin", "lib")); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "x")
	sim := api.SimulationSpec{Program: []string{"bin/sim"}, WorkingDir: ".", IniFile: "omnetpp.ini", Config: "General"}
	p, _ := json.Marshal(schema.BuildTask{Campaign: "c", UID: "u", Key: "klink", Source: api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}},
		Build: api.BuildSpec{Prebuilt: true}, Simulation: &sim})
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b"}
	if err := h.ProcessTask(context.Background(), asynq.NewTask(schema.TypeBuild, p)); err != nil {
		t.Fatal(err)
	}
	r := buildRecord(t, d, "klink")
	if r.State != schema.BuildFailed || !strings.Contains(r.LogTail, "the artifacts cannot be unpacked on a runner") || !strings.Contains(r.LogTail, "bin/lib") {
		t.Fatalf("build record %s: %q", r.State, r.LogTail)
	}
}
