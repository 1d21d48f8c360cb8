package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/omnetpp"
)

// buildOMNeTppWorkerImage makes the worker image the README describes for
// a real OMNeT++: omnetpp.Dockerfile on a debootstrapped Debian base (with
// the Dockerfile's packages already in it, so no network), with the test
// machine's OMNeT++ installation as the build context, then worker.Dockerfile
// on top. The toolchain image is cached per machine, keyed by the
// Dockerfile, the base's packages and the installation's build; only the
// worker layer (this simswarm binary) is built every time.
func buildOMNeTppWorkerImage(t *testing.T, d *dockertest.Daemon, omn *omnetpp.Install, ref string) {
	t.Helper()
	t.Setenv("DOCKER_BUILDKIT", "0") // BuildKit is not part of Debian's docker.io
	dockerfile, err := filepath.Abs("omnetpp.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	const toolchain = "simswarm-test/omnetpp:1"
	d.CachedImage(t, toolchain, "omnetpp-toolchain", omnetppImageInputs(t, dockerfile, omn), func() {
		d.ImportDebianImage(t, "simswarm-test/omnetpp-base:1", dockertest.OMNeTppPackages)
		d.CLI(t, "build", "-q", "-f", dockerfile, "--build-arg", "BASE_IMAGE=simswarm-test/omnetpp-base:1", "-t", toolchain, omn.Root)
	})
	worker, err := filepath.Abs("worker.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d.CLI(t, "build", "-q", "-f", worker, "--build-arg", "TOOLCHAIN_IMAGE="+toolchain, "-t", ref, buildSimswarmBinary(t))
}

// omnetppImageInputs is what decides the toolchain image: the Dockerfile,
// the base's packages and the installation (its build stamp, its make
// configuration, and the size and time of each library and program).
func omnetppImageInputs(t *testing.T, dockerfile string, omn *omnetpp.Install) []string {
	t.Helper()
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []string{string(df), dockertest.DebianSuite + " " + strings.Join(dockertest.OMNeTppPackages, ",")}
	stamps, _ := filepath.Glob(filepath.Join(omn.Root, ".simswarm-built-*"))
	files, _ := filepath.Glob(filepath.Join(omn.Root, "lib", "*"))
	bins, _ := filepath.Glob(filepath.Join(omn.Root, "bin", "*"))
	for _, f := range append(append(stamps, filepath.Join(omn.Root, "Makefile.inc")), append(files, bins...)...) {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, fmt.Sprintf("%s %d %d", strings.TrimPrefix(f, omn.Root), st.Size(), st.ModTime().UnixNano()))
	}
	return inputs
}

// fifoManifest is OMNeT++'s fifo sample as a campaign built from source:
// `make MODE=release` with OMNeT++'s own makefile (which names g++ itself),
// the program and its NED files as the artifacts.
func fifoManifest(t *testing.T, dir, name string) string {
	t.Helper()
	m := fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: %s
spec:
  source:
    path: model
  build:
    command: ["make", "MODE=release"]
    artifacts: ["fifo", "omnetpp.ini", "package.ned", "Fifo.ned", "SingleQueue.ned", "Sink.ned", "Source.ned", "TandemQueues.ned"]
  simulation:
    program: ["./fifo"]
    config: TandemQueueExperiment
  results: ["results/*.sca", "results/*.vec"]
  timeout: 2m
`, name)
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOMNeTppCampaignOnSwarm runs OMNeT++'s fifo sample as a campaign on a
// real swarm whose workers are the OMNeT++ worker image (omnetpp.Dockerfile
// with this machine's OMNeT++ 6.1.0, worker.Dockerfile on top): the
// builder compiles the sample from source with OMNeT++'s makefile, make -j
// through the stack's distcc service; the runners run it. The distcc
// service served each of the model's C++ sources, and the pulled results
// are those `simswarm run` gives on this machine, line for line except the
// run's name, date and process id.
func TestOMNeTppCampaignOnSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the OMNeT++ image and runs a campaign on a private swarm")
	}
	omn := omnetpp.Find(t)
	// `simswarm run` builds and runs the sample here with this OMNeT++.
	for _, kv := range omn.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" || k == "LD_LIBRARY_PATH" {
			t.Setenv(k, v)
		}
	}
	start := time.Now()
	d := dockertest.Start(t)
	d.ImportGoImage(t, "simswarm-test/simswarm:1", "github.com/simswarm/simswarm/cmd/simswarm")
	d.ImportGoImage(t, "simswarm-test/mongo:1", "github.com/simswarm/simswarm/test/dockerd/ferretapp")
	d.ImportHostBinaries(t, "simswarm-test/redis:1", "/usr/bin/redis-server")
	buildOMNeTppWorkerImage(t, d, omn, "simswarm-test/omnetpp-worker:1")
	t.Logf("MEASURE images ready (OMNeT++ worker image included): %v", time.Since(start))
	t.Setenv("DOCKER_HOST", d.Host)
	logServicesOnFailure(t, d, "simswarm_controller", "simswarm_builder", "simswarm_runner", "simswarm_distcc")

	port := freeport.Port(t)
	stackFile := filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(stackFile, []byte(fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Stack
metadata: {name: simswarm}
spec:
  images: {controller: simswarm-test/simswarm:1, worker: simswarm-test/omnetpp-worker:1, redis: simswarm-test/redis:1, mongo: simswarm-test/mongo:1}
  manager: {cpuReserve: 0}
  controller: {port: %d, dockerSocket: %s}
`, port, strings.TrimPrefix(d.Host, "unix://"))), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := api.LoadStackFile(stackFile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runStackCLI(t, "stack", "deploy", "-f", stackFile)
	if err != nil {
		t.Fatalf("stack deploy: %v\n%s", err, out)
	}
	_, token, ok := strings.Cut(out, "API token (keep it; it is not shown again): ")
	if !ok {
		t.Fatalf("deploy printed no token:\n%s", out)
	}
	waitFor(t, 3*time.Minute, "stack converged with the OMNeT++ worker image", stackConverged(t, d, s))
	t.Setenv("SIMSWARM_SERVER", fmt.Sprintf("http://127.0.0.1:%d", port))
	t.Setenv("SIMSWARM_TOKEN", strings.TrimSpace(token))
	waitFor(t, time.Minute, "API on the published port", func() (bool, string) {
		out, err := cli(t, "get", "campaigns")
		return err == nil, fmt.Sprint(out, err)
	})

	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	if err := os.Rename(omn.Sample(t, "fifo"), model); err != nil {
		t.Fatal(err)
	}
	// Only the source: the builder must compile the program itself.
	if err := os.Remove(filepath.Join(model, "fifo")); err != nil {
		t.Fatal(err)
	}
	manifest := fifoManifest(t, dir, "fifo")
	start = time.Now()
	mustCLI(t, "apply", "-f", manifest)
	if out, err := cli(t, "wait", "fifo", "--timeout", "8m"); err != nil {
		t.Fatalf("wait: %v\n%s\n%s", err, out, controllerLogs(t, d))
	}
	t.Logf("MEASURE apply -> fifo campaign complete (build through distcc included): %v", time.Since(start))

	// The distcc service compiled each C++ source of the model.
	logs := serviceLogs(d, stackspec.ObjectName(s, stackspec.Distcc))
	served := map[string]bool{}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "COMPILE_OK") {
			for _, src := range []string{"AbstractFifo.cc", "Fifo.cc", "Sink.cc", "Source.cc"} {
				if strings.Contains(line, " "+src) {
					served[src] = true
				}
			}
		}
	}
	if len(served) != 4 {
		t.Errorf("the distcc service compiled %v of fifo's 4 sources:\n%s", served, logs)
	}

	pulled := filepath.Join(dir, "pulled")
	mustCLI(t, "results", "pull", "fifo", "-o", pulled)
	local := filepath.Join(dir, "local")
	mustCLI(t, "run", "-f", manifest, "--results", local)
	got, want := readDir(t, pulled), readDir(t, local)
	// TandemQueueExperiment: 2 service times x 2 repetitions, .sca and .vec.
	if len(want) != 8 || strings.Join(names(got), "\n") != strings.Join(names(want), "\n") {
		t.Fatalf("pulled files\n%q\nlocal files (want 8)\n%q", names(got), names(want))
	}
	for name, w := range want {
		if g, l := sameRunResults(got[name]), sameRunResults(w); g != l {
			t.Errorf("%s differs between the swarm and the local run:\n%s", name, firstDifference(g, l))
		}
	}
}

// runIdentity are the lines of an OMNeT++ result file that name the run
// itself (its id holds the date and process id) rather than its results.
var runIdentity = regexp.MustCompile(`^(run |attr (datetime|datetimef|processid) )`)

// sameRunResults is a result file without the lines that differ between
// any two executions of the same run.
func sameRunResults(b []byte) string {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !runIdentity.MatchString(sc.Text()) {
			out.WriteString(sc.Text())
			out.WriteByte('\n')
		}
	}
	return out.String()
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  swarm: %s\n  local: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(al), len(bl))
}
