package runner

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// treeKey is the artifact of TestRunWritesOnlyIntoItsOwnTree.
const treeKey = "7e7e7e7e22cc33dd44ee55ff66778899aabbccddeeff00112233445566778899"

// TestRunWritesOnlyIntoItsOwnTree: the program runs where its artifact
// put it (here sim/, reading ../data), with no result directory forced on
// it; it writes below its own result directory, into subdirectories, and
// the run's files are exactly what it wrote there, named by their paths
// below results/ - not the stale results shipped in the artifact, not a
// link it left pointing out, not the cache's files. The shared cache is
// left as it was unpacked, and a second run on the same host finds no
// file of the first.
func TestRunWritesOnlyIntoItsOwnTree(t *testing.T) {
	db := setup(t, "[General]\n")
	ctx := context.Background()
	src := t.TempDir()
	for name, body := range map[string]string{
		"sim/sim.sh": `#!/bin/sh
case " $* " in *" --result-dir"*) echo "forced result dir: $*" >&2; exit 3;; esac
read input < ../data/input.txt
run=$(echo " $* " | sed 's/.* -r \([0-9]*\) .*/\1/')
mkdir -p results/Cfg/x=$run
echo "$input run $run" > results/Cfg/x=$run/rep0.sca
echo "out of run $run" > results/General-#$run.out
ln -s /etc/passwd results/evil.sca
`,
		"sim/results/stale.sca": "from a run on the developer's machine\n",
		"data/input.txt":        "input\n",
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	storeArtifact(t, db, src, treeKey)
	cache := t.TempDir()
	for _, run := range []int{0, 1} {
		if _, err := db.Collection(schema.CollRuns).InsertOne(ctx, schema.RunRecord{ID: schema.RunID("c", "u1", run), Campaign: "c", UID: "u1", Run: run, State: schema.RunQueued}); err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "u1", Run: run, ArtifactKey: treeKey,
			Simulation: api.SimulationSpec{Program: []string{"./sim.sh"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: "sim"},
			Results:    []string{"results/*.sca", "results/*/*/*.sca", "results/*.out"}, Timeout: api.Duration{Duration: time.Minute}})
		if err := handler(t, db, cache).ProcessTask(ctx, asynq.NewTask(schema.TypeRun, payload)); err != nil {
			t.Fatal(err)
		}
		r := record(t, db, run)
		var names []string
		for _, f := range r.Files {
			names = append(names, f.Name)
		}
		slices.Sort(names)
		want := []string{"Cfg/x=" + itoa(run) + "/rep0.sca", "General-#" + itoa(run) + ".out"}
		if r.State != schema.RunSucceeded || !slices.Equal(names, want) {
			t.Fatalf("run %d: %s (%s %s) with files %q, want %q", run, r.State, r.Message, r.StderrTail, names, want)
		}
	}
	// The cache holds what was unpacked, and nothing a run wrote.
	var cached []string
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(cache, p)
			cached = append(cached, filepath.ToSlash(rel))
		}
		return nil
	})
	for _, f := range cached {
		if filepath.Base(f) == "rep0.sca" || filepath.Ext(f) == ".out" || filepath.Base(f) == "evil.sca" {
			t.Errorf("a run wrote %s into the shared cache", f)
		}
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
