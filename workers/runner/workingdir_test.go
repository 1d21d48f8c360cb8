package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/tarball"
)

const nestedKey = "0e57ed0e57ed0e57ed0e57ed0e57ed0e57ed0e57ed0e57ed0e57ed0e57ed0e57"

// TestRunsStartInTheWorkingDirOfTheArtifact: an artifact laid out like a
// framework and a model beside it (bin/fakesim, net/omnetpp.ini): a run with
// workingDir net starts there (the program finds net's ini, and its own
// path is relative to it); a workingDir the artifact does not have fails
// the run with a message naming the field, not a bare chdir error.
func TestRunsStartInTheWorkingDirOfTheArtifact(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "bin"), 0o755)
	os.MkdirAll(filepath.Join(src, "net"), 0o755)
	cmd := exec.Command("go", "build", "-o", filepath.Join(src, "bin", "fakesim"), "../../test/fixtures/fakesim")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(src, "net", "omnetpp.ini"), []byte("[General]\n**.mode = ${mode=ok,ok}\n"), 0o644)
	var buf bytes.Buffer
	sha, _, err := tarball.Pack(src, []string{"bin", "net"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gridfs.Upload(ctx, db, schema.BucketArtifacts, schema.ArtifactName(nestedKey), &buf, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(schema.CollBuilds).InsertOne(ctx, schema.BuildRecord{Key: nestedKey, State: schema.BuildSucceeded, SHA256: sha}); err != nil {
		t.Fatal(err)
	}
	runIn := func(run int, wd string) schema.RunRecord {
		t.Helper()
		rec := schema.RunRecord{ID: schema.RunID("c", "u1", run), Campaign: "c", UID: "u1", Run: run, State: schema.RunQueued}
		if _, err := db.Collection(schema.CollRuns).InsertOne(ctx, rec); err != nil {
			t.Fatal(err)
		}
		p, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "u1", Run: run, ArtifactKey: nestedKey,
			Simulation: api.SimulationSpec{Program: []string{"../bin/fakesim"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: wd},
			Results:    []string{"results/*.sca"}, Timeout: api.Duration{Duration: time.Minute}})
		if err := handler(t, db, t.TempDir()).ProcessTask(ctx, asynq.NewTask(schema.TypeRun, p)); err != nil {
			t.Fatalf("workingDir %q: %v", wd, err)
		}
		return record(t, db, run)
	}
	if r := runIn(0, "net"); r.State != schema.RunSucceeded || len(r.Files) == 0 {
		t.Fatalf("run in net: %+v", r)
	}
	r := runIn(1, "simulations")
	want := `spec.simulation.workingDir "simulations" is not a directory in the build's artifacts`
	if r.State != schema.RunFailed || !strings.Contains(r.Message, want) {
		t.Fatalf("run in a workingDir the artifact lacks: %s %q, want Failed with %q", r.State, r.Message, want)
	}
}
