package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// queuenetSweepIni sweeps the queuenet sample's TandemFifos (a network
// made only of queueinglib's modules) over the service time: 3 x 2 runs.
const queuenetSweepIni = `include omnetpp.ini

[TandemSweep]
extends = TandemFifos
sim-time-limit = 2000s
repeat = 2
**.serviceTime = exponential(${serviceTime=1,1.5,1.9}s)
`

// queuenetManifest is a campaign on a shared-library model, as INET is
// used: the build makes queueinglib/libqueueinglib.so with
// opp_makemake --make-so, and the runs start in queuenet (inside the
// artifacts) and load it with opp_run -l.
const queuenetManifest = `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: queuenet
spec:
  source:
    path: model
  build:
    command: ["sh", "-c", "cd queueinglib && opp_makemake -f --make-so -pQUEUEING -I. && make MODE=release"]
    artifacts: ["queueinglib/libqueueinglib.so", "queueinglib", "queuenet"]
  simulation:
    workingDir: queuenet
    program: ["opp_run", "-l", "../queueinglib/queueinglib"]
    iniFile: sweep.ini
    config: TandemSweep
  results: ["results/*.sca", "results/*.vec"]
  timeout: 2m
`

// TestSharedLibraryModelOnWorkersEqualsLocalRun: OMNeT++'s queueinglib
// and queuenet samples as one Campaign whose build produces the library
// (opp_makemake --make-so) and whose runs load it
// (opp_run -l ../queueinglib/queueinglib, started in workingDir queuenet
// inside the artifacts). `simswarm run` and a controller with a builder
// and two runners give the same runs (those opp_run -q runs lists) and the
// same files, scalar for scalar and vector for vector; the stored artifact
// holds what the artifacts name and not the rest of the source tree.
func TestSharedLibraryModelOnWorkersEqualsLocalRun(t *testing.T) {
	omn := omnetpp.Find(t)
	for _, kv := range omn.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" || k == "LD_LIBRARY_PATH" {
			t.Setenv(k, v)
		}
	}
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"queueinglib", "queuenet"} {
		if err := os.Rename(omn.Sample(t, s), filepath.Join(model, s)); err != nil {
			t.Fatal(err)
		}
	}
	// Part of the source tree that the runs do not need.
	if err := os.MkdirAll(filepath.Join(model, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"queuenet/sweep.ini": queuenetSweepIni, "docs/notes.txt": "not an artifact\n"} {
		if err := os.WriteFile(filepath.Join(model, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(dir, "queuenet.yaml")
	if err := os.WriteFile(manifest, []byte(queuenetManifest), 0o644); err != nil {
		t.Fatal(err)
	}

	// Locally first: simswarm run builds the library in its own copy of
	// the source and runs every run the program lists.
	local := filepath.Join(dir, "local")
	mustCLI(t, "run", "-f", manifest, "--results", local, "--workdir", filepath.Join(dir, "work"))
	built := filepath.Join(dir, "work", "src")
	want, err := oppcli.QueryRuns(context.Background(), []string{"opp_run", "-l", "../queueinglib/queueinglib"},
		filepath.Join(built, "queuenet"), "sweep.ini", "TandemSweep", "", omn.Env())
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 6 {
		t.Fatalf("opp_run -q runs lists %d runs, the test expects 6 (3 service times x 2 repetitions)", len(want))
	}

	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	startWorkers(t, rs.URL(), mongoURI, 2)
	mustCLI(t, "apply", "-f", manifest)
	if out, err := cli(t, "wait", "queuenet", "--timeout", "300s"); err != nil {
		t.Fatalf("wait: %v\n%s", err, out)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	if got := runNumbers(t, st, "queuenet"); !slices.Equal(got, numbersOf(want)) {
		t.Fatalf("campaign runs %v, opp_run -q runs lists %v", got, numbersOf(want))
	}
	pulled := filepath.Join(dir, "pulled")
	mustCLI(t, "results", "pull", "queuenet", "-o", pulled)

	got, exp := readDir(t, pulled), readDir(t, local)
	if len(exp) != 12 || strings.Join(names(got), "\n") != strings.Join(names(exp), "\n") {
		t.Fatalf("pulled files\n%q\nlocal files (want 12: a .sca and a .vec per run)\n%q", names(got), names(exp))
	}
	for _, n := range names(exp) {
		if g, w := resultData(got[n]), resultData(exp[n]); g != w || !strings.Contains(w, "\n") {
			t.Errorf("%s: the results differ between the workers and the local run: %s", n, firstDiff(g, w))
		}
	}

	// The artifact is what the manifest names: the library, its NED
	// files and the network's directory, not docs/.
	entries := artifactEntries(t, st, ctx)
	for _, n := range []string{"queueinglib/libqueueinglib.so", "queueinglib/Queue.ned", "queuenet/sweep.ini", "queuenet/TandemQueue.ned"} {
		if !slices.Contains(entries, n) {
			t.Errorf("the artifact lacks %s", n)
		}
	}
	for _, n := range entries {
		if strings.HasPrefix(n, "docs") {
			t.Errorf("the artifact holds %s, which no artifact path names", n)
		}
	}
}

// resultData is a result file without its run line and run attributes
// (date, process id, host, run id), which differ between any two runs, and
// without the config entries of the command line rather than the model:
// the result directory, and the output redirection that the local path
// adds as opp_runall does (runners do not redirect; the cluster path's
// .out files are another issue's).
func resultData(b []byte) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inRun := false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "run "):
			inRun = true
			continue
		case inRun && strings.HasPrefix(l, "attr "), strings.HasPrefix(l, "config result-dir "),
			strings.HasPrefix(l, "config cmdenv-redirect-output "):
			continue
		case l != "" && !strings.HasPrefix(l, "attr ") && !strings.HasPrefix(l, "itervar ") && !strings.HasPrefix(l, "config "):
			inRun = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func artifactEntries(t *testing.T, st *store.Store, ctx context.Context) []string {
	t.Helper()
	var b schema.BuildRecord
	if err := st.DB.Collection(schema.CollBuilds).FindOne(ctx, map[string]any{}).Decode(&b); err != nil {
		t.Fatal(err)
	}
	r, err := gridfs.OpenByName(ctx, st.DB, schema.BucketArtifacts, schema.ArtifactName(b.Key))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	gz, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimSuffix(h.Name, "/"))
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d: workers %q, local %q", i+1, gl, wl)
		}
	}
	return "no difference in the lines (empty?)"
}
