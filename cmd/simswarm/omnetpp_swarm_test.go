package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// fifoCampaign is OMNeT++'s fifo sample as a campaign built from source:
// `make MODE=release` with OMNeT++'s own makefile (which names g++ itself),
// the program and its NED files as the artifacts.
var fifoCampaign = sampleCampaign{
	name:      "fifo",
	source:    "model",
	build:     []string{"make", "MODE=release"},
	artifacts: []string{"fifo", "omnetpp.ini", "package.ned", "Fifo.ned", "SingleQueue.ned", "Sink.ned", "Source.ned", "TandemQueues.ned"},
	program:   []string{"./fifo"},
	config:    "TandemQueueExperiment",
	results:   []string{"results/*.sca", "results/*.vec"},
	timeout:   "2m",
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
	omn.Setenv(t)
	start := time.Now()
	d := dockertest.Start(t)
	importStackImages(t, d)
	buildOMNeTppWorkerImage(t, d, omn, "simswarm-test/omnetpp-worker:1")
	t.Logf("MEASURE images ready (OMNeT++ worker image included): %v", time.Since(start))
	t.Setenv("DOCKER_HOST", d.Host)
	logServicesOnFailure(t, d, "simswarm_controller", "simswarm_builder", "simswarm_runner", "simswarm_distcc")

	port := freeport.Port(t)
	s, token := deployStack(t, d, "simswarm-test/omnetpp-worker:1", port)
	waitFor(t, 3*time.Minute, "stack converged with the OMNeT++ worker image", stackConverged(t, d, s))
	t.Setenv("SIMSWARM_SERVER", fmt.Sprintf("http://127.0.0.1:%d", port))
	t.Setenv("SIMSWARM_TOKEN", token)
	waitForAPI(t, "API on the published port")

	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	omn.SampleAt(t, "fifo", model)
	// Only the source: the builder must compile the program itself.
	if err := os.Remove(filepath.Join(model, "fifo")); err != nil {
		t.Fatal(err)
	}
	manifest := fifoCampaign.write(t, dir)
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

	runLocally(t, dir, "fifo")
	// TandemQueueExperiment: 2 service times x 2 repetitions, .sca and .vec.
	if local := omnetpp.Tree(t, filepath.Join(dir, "local", "fifo")); len(local) != 8 {
		t.Fatalf("local files (want 8)\n%q", local)
	}
	pullSameAsLocal(t, dir, "fifo")
}
