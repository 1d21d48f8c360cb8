package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/test/testdb"
)

// manyFilesPerRun is how many result files each run of
// TestPullManySmallFilesIsFast leaves (as a campaign recording a vector
// per module would).
const manyFilesPerRun = 3000

// TestPullManySmallFilesIsFast: two runs of 3,000 result files each,
// stored by a real runner worker, pull into results/ in under 30 s, and a
// second pull finds them all present. Each file's download used to read
// the campaign and the whole run record (hundreds of KB) and scan the
// chunks: about half a second a file on FerretDB, an hour for these.
func TestPullManySmallFilesIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 6,000 files through a runner")
	}
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	token := writeToken(t)
	ctl := startControllerProc(t, rs.URL(), mongoURI, token)
	work := t.TempDir()
	startProc(t, nil, "worker", "--role", "build", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", filepath.Join(work, "build"), "--name", "b")
	startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI, "--slots", "2",
		"--cache", filepath.Join(work, "run"), "--name", "r")

	model := filepath.Join(work, "model")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	sim := shListsRuns(t, "0..1") + fmt.Sprintf(`out=results run=x prev=
for a; do
  case $a in --result-dir=*) out=${a#--result-dir=};; esac
  [ "$prev" = -r ] && run=$a
  prev=$a
done
mkdir -p "$out"
i=0
while [ $i -lt %d ]; do
  echo "scalar net.node[$i] rx $run$i" > "$out/Run$run-node$i.sca"
  i=$((i+1))
done
`, manyFilesPerRun)
	if err := os.WriteFile(filepath.Join(model, "sim.sh"), []byte(sim), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(work, "many.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata: {name: many}
spec:
  source: {path: model}
  build: {command: ["true"], artifacts: ["sim.sh"]}
  simulation: {program: ["sh", "sim.sh"], runs: "0..1"}
  results: ["results/*.sca"]
  timeout: 5m
`), 0o644); err != nil {
		t.Fatal(err)
	}
	server := "http://" + ctl.addr
	t.Setenv("SIMSWARM_SERVER", server)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	mustCLI(t, "apply", "-f", manifest)
	c := client.New(server, testToken)
	start := time.Now()
	waitUntil(t, "the campaign to succeed", 120*time.Second, func() bool {
		cp, err := c.Get(context.Background(), "many")
		if err == nil && cp.Status.Phase == api.PhaseFailed {
			b, _ := json.Marshal(cp.Status)
			t.Fatalf("campaign failed: %s", b)
		}
		return err == nil && cp.Status.Phase == api.PhaseSucceeded
	})
	t.Logf("2 runs of %d files stored in %s", manyFilesPerRun, time.Since(start).Round(100*time.Millisecond))

	out := filepath.Join(work, "results")
	const limit = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*limit)
	defer cancel()
	start = time.Now()
	st, err := c.PullResults(ctx, "many", out, 4)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("pull after %s (%+v): %v", took, st, err)
	}
	t.Logf("pulled %d files in %s", st.Downloaded, took.Round(10*time.Millisecond))
	if st.Downloaded != 2*manyFilesPerRun || st.Skipped != 0 {
		t.Fatalf("pull: %+v, want %d downloaded", st, 2*manyFilesPerRun)
	}
	if took > limit {
		t.Errorf("pulling %d small files took %s, want under %s", 2*manyFilesPerRun, took, limit)
	}
	for _, f := range []struct {
		name, want string
	}{{"Run0-node0.sca", "scalar net.node[0] rx 00\n"}, {"Run1-node2999.sca", "scalar net.node[2999] rx 12999\n"}} {
		b, err := os.ReadFile(filepath.Join(out, f.name))
		if err != nil || string(b) != f.want {
			t.Errorf("%s: %q, %v; want %q", f.name, b, err, f.want)
		}
	}
	start = time.Now()
	st, err = c.PullResults(ctx, "many", out, 4)
	if err != nil || st.Downloaded != 0 || st.Skipped != 2*manyFilesPerRun {
		t.Fatalf("second pull: %+v, %v; want all %d skipped", st, err, 2*manyFilesPerRun)
	}
	t.Logf("second pull (all present) in %s", time.Since(start).Round(10*time.Millisecond))
}
