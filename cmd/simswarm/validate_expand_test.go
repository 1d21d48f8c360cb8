package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
)

// runManifestCmd runs one command line in-process and returns stdout,
// stderr, and the exit status main would use (0, 1 or 2).
func runManifestCmd(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	switch ex := (*exitError)(nil); {
	case err == nil:
	case errors.As(err, &ex):
		status = ex.code
		errOut.WriteString("Error: " + err.Error() + "\n")
	default:
		status = 1
		errOut.WriteString("Error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), status
}

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const testCampaign = `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata: {name: NAME}
spec:
  source: {path: model}
  simulation:
    workingDir: sim
    program: [./aloha]
    config: CONFIG
    runs: "RUNS"
`

func campaignYAML(name, config, runs string) string {
	return strings.NewReplacer("NAME", name, "CONFIG", config, "RUNS", runs).Replace(testCampaign)
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := writeTestFile(t, dir, "good.yaml", campaignYAML("one", "A", "0..3")+"---\n"+campaignYAML("two", "B", "1,5"))
	bad := writeTestFile(t, dir, "bad.yaml", campaignYAML("Bad_Name", "A", "5..2"))
	typo := writeTestFile(t, dir, "typo.yaml", strings.Replace(campaignYAML("t", "A", "0"), "config:", "confg:", 1))

	out, errOut, status := runManifestCmd(t, "validate", "-f", good)
	if status != 0 || out != "campaign/one valid\ncampaign/two valid\n" {
		t.Errorf("valid file: status %d, stdout %q, stderr %q", status, out, errOut)
	}

	// Every problem of every file, exit status 2; valid files still reported.
	out, errOut, status = runManifestCmd(t, "validate", "-f", bad, "-f", good, typo)
	if status != 2 {
		t.Errorf("invalid files: status %d, want 2", status)
	}
	if out != "campaign/one valid\ncampaign/two valid\n" {
		t.Errorf("stdout %q", out)
	}
	for _, want := range []string{
		bad + `: campaign "Bad_Name" is invalid:`,
		`  metadata.name: "Bad_Name" is not a valid name`,
		`  spec.simulation.runs: "5..2" is not a valid range: 5 is greater than 2`,
		typo + `: document 1: spec.simulation.confg: unknown field (did you mean "config"?)`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	if _, errOut, status = runManifestCmd(t, "validate"); status != 2 || !strings.Contains(errOut, "no manifest given") {
		t.Errorf("no file: status %d, %s", status, errOut)
	}
}

// The real process: the field path on stderr and exit status 2.
func TestValidateCommandExitStatus(t *testing.T) {
	dir := t.TempDir()
	bad := writeTestFile(t, dir, "bad.yaml", campaignYAML("x", "A", "0..999999999999"))
	argv, _ := json.Marshal([]string{"validate", "-f", bad})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SIMSWARM_TEST_ARGV="+string(argv))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v, want status 2; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), `spec.simulation.runs: "0..999999999999" is not a valid range`) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

const testIni = `[General]
network = Aloha
**.iaMean = ${iaMean=1..5 step 2}

[Config A]
**.numHosts = ${numHosts=10,20}
repeat = 2

[Config B]
extends = A
**.app = ${app="x y",z}
`

func TestExpandCommand(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "model/sim/omnetpp.ini", testIni)
	m := writeTestFile(t, dir, "campaign.yaml", campaignYAML("one", "A", "0..3,11"))

	out, errOut, status := runManifestCmd(t, "expand", "-f", m)
	want := `Run 0: $numHosts=10, $iaMean=1, $repetition=0
Run 1: $numHosts=10, $iaMean=1, $repetition=1
Run 2: $numHosts=10, $iaMean=3, $repetition=0
Run 3: $numHosts=10, $iaMean=3, $repetition=1
Run 11: $numHosts=20, $iaMean=5, $repetition=1
`
	if status != 0 || out != want {
		t.Errorf("expand: status %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", status, out, want, errOut)
	}
	if !strings.Contains(errOut, "campaign/one: config A of "+filepath.Join(dir, "model/sim/omnetpp.ini")+": 5 of 12 runs") {
		t.Errorf("summary: %q", errOut)
	}

	// --filter and --config override the manifest; -o names and numbers.
	out, _, status = runManifestCmd(t, "expand", "-f", m, "--config", "B", "--filter", "1, 23", "-o", "names")
	if status != 0 || out != "B-app=_x_y_,numHosts=10,iaMean=1-#1\nB-app=z,numHosts=20,iaMean=5-#23\n" {
		t.Errorf("names: status %d, %q", status, out)
	}
	out, _, status = runManifestCmd(t, "expand", "-f", m, "-c", "General", "--filter", "0..2", "-o", "numbers")
	if status != 0 || out != "0 1 2\n" {
		t.Errorf("numbers: status %d, %q", status, out)
	}
}

func TestExpandCommandErrors(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "model/sim/omnetpp.ini", testIni)
	tests := []struct {
		name     string
		manifest string
		args     []string
		status   int
		want     string
	}{
		{"filter beyond the runs", campaignYAML("one", "A", "0..12"), nil, 2,
			`campaign/one: run filter "0..12": run 12 does not exist: config A has 12 runs (0..11), in ` + filepath.Join(dir, "model/sim/omnetpp.ini")},
		{"unknown config", campaignYAML("one", "Nope", "0"), nil, 2, `no config "Nope" (configs: General, A, B)`},
		{"bad filter flag", campaignYAML("one", "A", "0"), []string{"--filter", "3..1"}, 2, `run filter: "3..1" is not a valid range`},
		{"invalid manifest", campaignYAML("one", "A", "x"), nil, 2, `spec.simulation.runs: "x" is not a valid run number`},
		{"bad output", campaignYAML("one", "A", "0"), []string{"-o", "yaml"}, 2, `--output "yaml": want runs, names or numbers`},
		{"git source", strings.Replace(campaignYAML("one", "A", "0"), "{path: model}", "{git: {url: https://x/y.git, commit: abc}}", 1), nil, 1,
			"expand needs a local source.path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := writeTestFile(t, dir, "c.yaml", tt.manifest)
			_, errOut, status := runManifestCmd(t, append([]string{"expand", "-f", m}, tt.args...)...)
			if status != tt.status || !strings.Contains(errOut, tt.want) {
				t.Errorf("status %d (want %d), stderr:\n%s\nwant it to contain %q", status, tt.status, errOut, tt.want)
			}
		})
	}
	// A broken ini names its file and line.
	writeTestFile(t, dir, "model/sim/omnetpp.ini", "[General]\n**.x = ${x=1,2\n")
	m := writeTestFile(t, dir, "c.yaml", campaignYAML("one", "General", "0"))
	if _, errOut, status := runManifestCmd(t, "expand", "-f", m); status != 2 ||
		!strings.Contains(errOut, filepath.Join(dir, "model/sim/omnetpp.ini")+":2: **.x: ${x=1,2 lacks its closing '}'") {
		t.Errorf("broken ini: status %d, %s", status, errOut)
	}
	// What expand cannot evaluate offline it refuses, never miscounts (a
	// constraint over a, b = 1..3 has 3 runs in OMNeT++, not 9).
	writeTestFile(t, dir, "model/sim/omnetpp.ini", "[General]\n**.a = ${a=1..3}\n**.b = ${b=1..3}\nconstraint = $a < $b\n")
	if out, errOut, status := runManifestCmd(t, "expand", "-f", m); status != 2 ||
		!strings.Contains(errOut, filepath.Join(dir, "model/sim/omnetpp.ini")+":4: config General: constraint ($a < $b) is not supported by simswarm's ini reader (only the program can list these runs: opp_run -c General -q runs)") {
		t.Errorf("constraint: status %d, stdout %s, stderr %s", status, out, errOut)
	}
}

func TestValidateAndExpandHelpTeaches(t *testing.T) {
	for _, cmd := range []string{"validate", "expand"} {
		out, _, status := runManifestCmd(t, cmd, "--help")
		if status != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "simswarm "+cmd+" -f ") {
			t.Errorf("%s --help: status %d\n%s", cmd, status, out)
		}
	}
}

// -o yaml prints the defaulted campaigns, which decode strictly to the same
// campaigns.
func TestValidateOutputYAML(t *testing.T) {
	dir := t.TempDir()
	m := writeTestFile(t, dir, "c.yaml", campaignYAML("one", "A", "0..3")+"---\n"+campaignYAML("two", "B", "1"))
	out, errOut, status := runManifestCmd(t, "validate", "-f", m, "-o", "yaml")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errOut)
	}
	for _, want := range []string{"iniFile: omnetpp.ini", "timeout: 1h0m0s", "- results/*.vci", "retries: 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks defaulted %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "status:") {
		t.Errorf("empty status printed:\n%s", out)
	}
	again, err := api.ParseManifests([]byte(out), "out.yaml")
	if err != nil || len(again) != 2 || again[1].Metadata.Name != "two" || again[0].Spec.Simulation.IniFile != "omnetpp.ini" {
		t.Fatalf("printed YAML does not decode back: %v", err)
	}
	if _, errOut, status := runManifestCmd(t, "validate", "-f", m, "-o", "xml"); status != 2 || !strings.Contains(errOut, `--output "xml"`) {
		t.Errorf("bad -o: status %d, %s", status, errOut)
	}
}

// A source.path that is no directory is the manifest's fault: run and
// expand say so, naming the field, with exit status 2.
func TestMissingSourcePathIsInvalidInput(t *testing.T) {
	dir := t.TempDir()
	m := writeTestFile(t, dir, "c.yaml", strings.NewReplacer("NAME", "gone", "CONFIG", "PureAloha", "RUNS", "0..1").Replace(testCampaign))
	for _, args := range [][]string{
		{"run", "-f", m, "--results", filepath.Join(dir, "results"), "--workdir", filepath.Join(dir, "work")},
		{"expand", "-f", m},
	} {
		_, stderr, status := runManifestCmd(t, args...)
		if status != 2 || !strings.Contains(stderr, "spec.source.path") || !strings.Contains(stderr, "model") {
			t.Errorf("%s: status %d, stderr %q; want 2 and spec.source.path naming model", args[0], status, stderr)
		}
	}
}
