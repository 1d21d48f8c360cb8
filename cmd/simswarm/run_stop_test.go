package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A stop rule is the controller's: `simswarm run` says so, and runs every
// run the sweep has, instead of ignoring the rule in silence.
func TestRunSaysItIgnoresAStopRule(t *testing.T) {
	dir := t.TempDir()
	manifest := alohaManifest(t, dir, "stop", "PureAloha", "0..3")
	m := string(must(os.ReadFile(manifest))) + "  stop:\n    scalar: Aloha.channel.throughput\n    relativeHalfWidth: 0.5\n    minRepetitions: 2\n"
	if err := os.WriteFile(manifest, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "results")
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"run", "-f", manifest, "--results", results})
	if err := root.Execute(); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "spec.stop is the controller's: simswarm run runs every repetition") {
		t.Fatalf("run did not say it ignores the stop rule:\n%s", errOut.String())
	}
	sca, _ := filepath.Glob(filepath.Join(results, "*.sca"))
	if len(sca) != 4 {
		t.Fatalf("%d .sca files, want all 4 runs': %v", len(sca), sca)
	}
}
