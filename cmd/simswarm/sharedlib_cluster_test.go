package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/omnetpp"
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

// queuenetCampaign is a campaign on a shared-library model, as INET is
// used: the build makes queueinglib/libqueueinglib.so with
// opp_makemake --make-so, and the runs start in queuenet (inside the
// artifacts) and load it with opp_run -l.
var queuenetCampaign = sampleCampaign{
	name:       "queuenet",
	source:     "model",
	build:      []string{"sh", "-c", "cd queueinglib && opp_makemake -f --make-so -pQUEUEING -I. && make MODE=release"},
	artifacts:  []string{"queueinglib/libqueueinglib.so", "queueinglib", "queuenet"},
	workingDir: "queuenet",
	program:    []string{"opp_run", "-l", "../queueinglib/queueinglib"},
	ini:        "sweep.ini",
	config:     "TandemSweep",
	results:    []string{"results/*.sca", "results/*.vec"},
	timeout:    "2m",
}

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
	omn.Setenv(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	for _, s := range []string{"queueinglib", "queuenet"} {
		omn.SampleAt(t, s, filepath.Join(model, s))
	}
	// Part of the source tree that the runs do not need.
	if err := os.MkdirAll(filepath.Join(model, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"queuenet/sweep.ini": queuenetSweepIni, "docs/notes.txt": "not an artifact\n"} {
		writeFileT(t, filepath.Join(model, name), data)
	}
	manifest := queuenetCampaign.write(t, dir)

	// Locally first: simswarm run builds the library in its own copy of
	// the source and runs every run the program lists.
	local := runLocally(t, dir, "queuenet")
	built := filepath.Join(dir, "work", "queuenet", "src")
	want, err := oppcli.QueryRuns(context.Background(), []string{"opp_run", "-l", "../queueinglib/queueinglib"},
		filepath.Join(built, "queuenet"), "sweep.ini", "TandemSweep", "", omn.Env())
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 6 {
		t.Fatalf("opp_run -q runs lists %d runs, the test expects 6 (3 service times x 2 repetitions)", len(want))
	}

	st := startLocalCluster(t, 2).store(t)
	applyAndWait(t, manifest, "queuenet", "300s")
	if got := runNumbers(t, st, "queuenet"); !slices.Equal(got, numbersOf(want)) {
		t.Fatalf("campaign runs %v, opp_run -q runs lists %v", got, numbersOf(want))
	}
	exp := readDir(t, local)
	if len(exp) != 12 {
		t.Fatalf("local files (want 12: a .sca and a .vec per run)\n%q", names(exp))
	}
	for n, b := range exp {
		if !bytes.Contains(bytes.TrimSpace(omnetpp.Normalize(n, b)), []byte("\n")) {
			t.Errorf("%s: the local run left no results", n)
		}
	}
	pullSameAsLocal(t, dir, "queuenet")

	// The artifact is what the manifest names: the library, its NED
	// files and the network's directory, not docs/.
	entries := artifactEntries(t, st, context.Background())
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
