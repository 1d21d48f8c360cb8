package local

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
)

// A model whose "build" is make producing the simulation program from a
// template, recording the make flags and build environment it saw.
const (
	modelMakefile = "sim: sim.in\n\tcp sim.in sim && chmod +x sim\n\techo \"$(MAKEFLAGS) $$FLAVOUR\" > build-info\n"
	// sim.in answers -q runnumbers, runconfig and rundetails like opp_run: all 5
	// runs, or the -r list.
	modelSim = `#!/bin/sh
runs="0 1 2 3 4"; q=""
while [ $# -gt 0 ]; do case "$1" in -r) runs=$(echo "$2" | tr ',' ' '); shift;; -q) q=$2; shift;; esac; shift; done
[ "$q" = runnumbers ] && echo "Config: General" && echo "Run numbers: $runs"
[ "$q" = runconfig ] && for r in $runs; do echo "Run $r: \$repetition=$r"; printf '\trepeat = 5\n'; done
[ "$q" = rundetails ] && for r in $runs; do echo "Run $r: \$repetition=$r"; done
exit 0
`
)

func writeModel(t *testing.T, dir string) {
	t.Helper()
	for name, body := range map[string]string{"Makefile": modelMakefile, "sim.in": modelSim, "omnetpp.ini": "[General]\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func modelCampaign(source api.SourceSpec, runs string) *api.Campaign {
	c := &api.Campaign{Metadata: api.ObjectMeta{Name: "m"}, Spec: api.CampaignSpec{
		Source: source,
		Build:  api.BuildSpec{Command: []string{"make"}, Env: map[string]string{"FLAVOUR": "release"}},
		Simulation: api.SimulationSpec{
			Program: []string{"./sim"}, Runs: runs,
		},
	}}
	api.SetDefaults(c)
	return c
}

func TestPreparePathSourceBuildsAndResolvesRuns(t *testing.T) {
	project := t.TempDir()
	writeModel(t, filepath.Join(project))
	// Results and an old work directory inside the source are not copied.
	for _, d := range []string{"results", ".simswarm/work"} {
		os.MkdirAll(filepath.Join(project, d), 0o755)
		os.WriteFile(filepath.Join(project, d, "big.sca"), []byte("x"), 0o644)
	}
	work := filepath.Join(t.TempDir(), "work")
	var log strings.Builder
	plan, err := Prepare(context.Background(), modelCampaign(api.SourceSpec{Path: "."}, "1,3,4"), project,
		PrepareOptions{WorkDir: work, Skip: []string{filepath.Join(project, "results")}, Jobs: 3, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !slices.Equal(plan.Runs, []int{1, 3, 4}) {
		t.Fatalf("runs %v", plan.Runs)
	}
	info, err := os.ReadFile(filepath.Join(work, "src", "build-info"))
	if err != nil || !strings.Contains(string(info), "j3") || !strings.Contains(string(info), "release") {
		t.Fatalf("build saw %q (%v), want -j3 and FLAVOUR", info, err)
	}
	for _, d := range []string{"results", ".simswarm"} {
		if _, err := os.Stat(filepath.Join(work, "src", d)); err == nil {
			t.Errorf("%s was copied into the work directory", d)
		}
	}
	if plan.Dir != filepath.Join(work, "src") || plan.Retries != 2 || plan.Name != "m" {
		t.Fatalf("plan %+v", plan)
	}
}

func TestPrepareGitSourceChecksOutTheCommit(t *testing.T) {
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	writeModel(t, repo)
	git("add", ".")
	git("commit", "-q", "-m", "model")
	commit := git("rev-parse", "HEAD")
	// A later commit breaks the build: the campaign pins the good one.
	os.WriteFile(filepath.Join(repo, "Makefile"), []byte(".PHONY: sim\nsim:\n\tfalse\n"), 0o644)
	git("commit", "-q", "-am", "break")

	work := t.TempDir()
	c := modelCampaign(api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: commit}}, "")
	plan, err := Prepare(context.Background(), c, "/nonexistent", PrepareOptions{WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plan.Runs, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("runs %v", plan.Runs)
	}
	// The second Prepare reuses the clone.
	if _, err := Prepare(context.Background(), c, "/nonexistent", PrepareOptions{WorkDir: work}); err != nil {
		t.Fatal(err)
	}
	// The broken commit fails to build, with make's complaint in the error.
	c.Spec.Source.Git.Commit = git("rev-parse", "HEAD")
	_, err = Prepare(context.Background(), c, "/nonexistent", PrepareOptions{WorkDir: work})
	if err == nil || !strings.Contains(err.Error(), "build \"make\": exit status 2") {
		t.Fatalf("broken build: %v", err)
	}
}

func TestPrepareReportsMissingSource(t *testing.T) {
	c := modelCampaign(api.SourceSpec{Path: "nowhere"}, "")
	_, err := Prepare(context.Background(), c, t.TempDir(), PrepareOptions{WorkDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "spec.source.path") {
		t.Fatalf("got %v", err)
	}
}
