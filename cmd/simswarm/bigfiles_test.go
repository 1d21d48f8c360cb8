package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/test/testdb"
)

// bigFileBytes is the size of the artifact file and of the result file
// of TestLargeArtifactAndResultStreamWithBoundedMemory: above MongoDB's
// 16 MiB document and 48 MB message limits several times over, and above
// what FerretDB hands back in one reply without a batch size.
const bigFileBytes = 200 << 20

// maxRSSBytes bounds the peak resident memory of every simswarm process
// moving a bigFileBytes file: a process holding the whole file would need
// more.
const maxRSSBytes = 150 << 20

// TestLargeArtifactAndResultStreamWithBoundedMemory: a build leaves a
// 200 MB artifact file; the builder uploads it, the runner fetches and
// unpacks it (the simulation checks it against the digest the build
// took), the simulation copies it as a 200 MB result file, the runner
// stores it, and `simswarm results pull` writes back the same bytes. Each
// process on the path (controller, builder, runner, CLI) stays under
// maxRSSBytes at its peak.
func TestLargeArtifactAndResultStreamWithBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB files through FerretDB (about a minute)")
	}
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	token := writeToken(t)
	ctl := startControllerProc(t, rs.URL(), mongoURI, token)
	work := t.TempDir()
	builder := startProc(t, nil, "worker", "--role", "build", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", filepath.Join(work, "build"), "--name", "b")
	runner := startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", filepath.Join(work, "run"), "--name", "r")

	model := filepath.Join(work, "model")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	// The build makes a pseudo-random file (incompressible, so the
	// artifact is as large) and its digest, taken by sha256sum, not by
	// simswarm; the simulation checks the unpacked artifact against it and
	// returns the file as its result.
	build := `head -c ` + strconv.Itoa(bigFileBytes) + ` /dev/urandom > big.bin && sha256sum big.bin > big.sum`
	sim := shListsRuns(t, "0") + `out=results
for a; do case $a in --result-dir=*) out=${a#--result-dir=};; esac; done
sha256sum -c --quiet big.sum >&2 || exit 1
mkdir -p "$out" && cp big.bin "$out/big.vec" && cp big.sum "$out/big.sum"
`
	if err := os.WriteFile(filepath.Join(model, "sim.sh"), []byte(sim), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(work, "big.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata: {name: big}
spec:
  source: {path: model}
  build:
    command: ["sh", "-c", "`+build+`"]
    artifacts: ["big.bin", "big.sum", "sim.sh"]
  simulation: {program: ["sh", "sim.sh"], runs: "0"}
  results: ["results/*"]
  timeout: 5m
`), 0o644); err != nil {
		t.Fatal(err)
	}
	server := "http://" + ctl.addr
	t.Setenv("SIMSWARM_SERVER", server)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	mustCLI(t, "apply", "-f", manifest)

	start := time.Now()
	c := client.New(server, testToken)
	waitUntil(t, "the campaign to succeed", 150*time.Second, func() bool {
		cp, err := c.Get(context.Background(), "big")
		if err == nil && cp.Status.Phase == api.PhaseFailed {
			b, _ := json.Marshal(cp.Status)
			rec, _ := c.Run(context.Background(), "big", 0)
			t.Fatalf("campaign failed: %s\nrun 0: %+v", b, rec)
		}
		return err == nil && cp.Status.Phase == api.PhaseSucceeded
	})
	stored := time.Since(start)

	out := filepath.Join(work, "results")
	start = time.Now()
	pullRSS := runCLIProc(t, "results", "pull", "big", "-o", out, "--server", server, "--token-file", token)
	pulled := time.Since(start)

	sum, err := os.ReadFile(filepath.Join(out, "big.sum"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(sum))[0]
	if got := fileDigest(t, filepath.Join(out, "big.vec")); got != want {
		t.Fatalf("pulled big.vec has sha256 %s, the build's file %s", got, want)
	}
	if st, err := os.Stat(filepath.Join(out, "big.vec")); err != nil || st.Size() != bigFileBytes {
		t.Fatalf("pulled big.vec: %v, %v", st, err)
	}

	peaks := map[string]int64{"cli (results pull)": pullRSS}
	for name, p := range map[string]*proc{"controller": ctl, "builder": builder, "runner": runner} {
		_, hwm := rssKB(p.cmd.Process.Pid)
		if hwm == 0 {
			t.Fatalf("no VmHWM for the %s (pid %d)", name, p.cmd.Process.Pid)
		}
		peaks[name] = hwm << 10
	}
	t.Logf("200 MB artifact and result: build, fetch, run and store took %s, pull %s", stored.Round(time.Second), pulled.Round(time.Second))
	for name, b := range peaks {
		t.Logf("peak RSS of the %s: %d MB", name, b>>20)
		if b > maxRSSBytes {
			t.Errorf("the %s peaked at %d MB resident, want under %d MB", name, b>>20, maxRSSBytes>>20)
		}
	}
}

// runCLIProc runs `simswarm args...` as a child process to its end and
// returns its peak resident memory in bytes: the last VmHWM read while it
// ran. (The rusage of a child started by vfork+exec is no good here: Linux
// carries the parent's high-water mark over the exec.)
func runCLIProc(t *testing.T, args ...string) int64 {
	t.Helper()
	var out bytes.Buffer
	cmd := startCLIProc(t, &out, args...)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var hwm int64
	for {
		if _, h := rssKB(cmd.Process.Pid); h > hwm {
			hwm = h
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("simswarm %s: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			if hwm == 0 {
				t.Fatalf("no VmHWM read for simswarm %s", strings.Join(args, " "))
			}
			return hwm << 10
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func fileDigest(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
