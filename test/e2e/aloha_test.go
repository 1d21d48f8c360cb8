package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/sweep"
)

// copyModel copies the committed example (not build products or results of
// someone's demo) into a fresh project directory.
func copyModel(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (name == "results" || name == ".simswarm") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(name, ".o") || name == "aloha" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAlohaCampaign runs the example campaign exactly as the README's
// `make demo` does and checks that results/ holds the .sca and .vec file of
// every run the built model lists with `-q runs`, named as the project's
// own ini expansion (api/sweep) says.
func TestAlohaCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the whole example campaign")
	}
	project := filepath.Join(t.TempDir(), "aloha")
	copyModel(t, filepath.Join(repoRoot, "examples", "aloha"), project)
	campaigns, err := api.LoadFile(filepath.Join(project, "campaign.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := simswarm(t, project, "run", "-f", "campaign.yaml", "-j", "2")
	if r.code != 0 {
		t.Fatal(r)
	}
	var want []string
	total := 0
	for _, c := range campaigns {
		names := expectedResults(t, project, c)
		want = append(want, names...)
		total += len(names) / 2
		if !strings.Contains(r.stdout, strconv.Itoa(len(names)/2)+" runs: "+strconv.Itoa(len(names)/2)+" succeeded, 0 failed, 0 skipped") {
			t.Fatalf("summary of %s:\n%s", c.Metadata.Name, r)
		}
	}
	slices.Sort(want)
	got := resultFiles(t, filepath.Join(project, "results"))
	if !slices.Equal(got, want) {
		t.Fatalf("results/ holds\n%q\nwant\n%q", got, want)
	}
	for _, name := range got {
		data, err := os.ReadFile(filepath.Join(project, "results", name))
		if err != nil || !strings.HasPrefix(string(data), "version ") || !strings.Contains(string(data), "\nrun ") {
			t.Fatalf("%s is not an OMNeT++ result file: %.200q", name, data)
		}
	}

	// Running it again does nothing but check the records.
	r = simswarm(t, project, "run", "-f", "campaign.yaml", "-j", "2")
	if r.code != 0 || strings.Count(r.stdout, " 0 succeeded, 0 failed, ") != len(campaigns) {
		t.Fatalf("second run should skip all %d runs:\n%s", total, r)
	}
}

// expectedResults asks the model simswarm built for campaign c which runs
// it has (-q runs), checks that listing against the project's own ini
// expansion, and returns the result file names those runs must produce.
func expectedResults(t *testing.T, project string, c *api.Campaign) []string {
	t.Helper()
	sim := c.Spec.Simulation
	workDir := filepath.Join(project, ".simswarm", "work", c.Metadata.Name, "src", sim.WorkingDir)
	argv := append(slices.Clone(sim.Program), "-u", "Cmdenv", "-f", sim.IniFile, "-c", sim.Config)
	if sim.Runs != "" {
		argv = append(argv, "-r", sim.Runs)
	}
	argv = append(argv, "-q", "runs")
	if strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]) {
		argv[0] = filepath.Join(workDir, argv[0])
	}
	q := exec.Command(argv[0], argv[1:]...)
	q.Dir = workDir
	out, err := q.Output()
	if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	listed := strings.Split(strings.TrimSpace(string(out)), "\n")

	ini, err := sweep.ParseFile(filepath.Join(workDir, sim.IniFile))
	if err != nil {
		t.Fatal(err)
	}
	all, err := ini.Runs(sim.Config)
	if err != nil {
		t.Fatal(err)
	}
	var filter api.RunFilter
	if sim.Runs != "" {
		if filter, err = api.ParseRunFilter(sim.Runs); err != nil {
			t.Fatal(err)
		}
	}
	var wantLines, names []string
	for _, run := range all {
		if sim.Runs != "" && !filter.Contains(run.Number) {
			continue
		}
		wantLines = append(wantLines, run.String())
		names = append(names, run.ResultBase()+".sca", run.ResultBase()+".vec")
	}
	if !slices.Equal(listed, wantLines) {
		t.Fatalf("%s: -q runs lists\n%s\nthe ini expands to\n%s", c.Metadata.Name, strings.Join(listed, "\n"), strings.Join(wantLines, "\n"))
	}
	return names
}

// TestRunallDropInOnAloha uses runall as opp_runall is used: in the model's
// directory, on the built program, with batches.
func TestRunallDropInOnAloha(t *testing.T) {
	project := filepath.Join(t.TempDir(), "aloha")
	copyModel(t, filepath.Join(repoRoot, "examples", "aloha"), project)
	build := exec.Command("make")
	build.Dir = project
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	r := simswarm(t, project, "runall", "-j", "2", "-b", "2", "--", "./aloha", "-c", "Quick")
	if r.code != 0 || !strings.Contains(r.stdout, "4 runs: 4 succeeded, 0 failed, 0 skipped") {
		t.Fatal(r)
	}
	ini, err := sweep.ParseFile(filepath.Join(project, "omnetpp.ini"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ini.Runs("Quick")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, run := range runs {
		want = append(want, run.ResultBase()+".out", run.ResultBase()+".sca", run.ResultBase()+".vec")
	}
	slices.Sort(want)
	if got := resultFiles(t, filepath.Join(project, "results")); !slices.Equal(got, want) {
		t.Fatalf("results/ holds %q, want %q", got, want)
	}
}
