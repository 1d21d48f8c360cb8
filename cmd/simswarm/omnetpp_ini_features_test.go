package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/local"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/runlist"
)

// featureInis are one ini per feature of OMNeT++'s ini language that
// people sweep with, on the aloha sample (Base: PureAloha1 for 10 s). All
// but include.ini get the sample's omnetpp.ini and Base in place of their
// include line, so that simswarm expand's own reader sees the feature
// itself (it refuses include).
var featureInis = map[string]string{
	"base.ini":       "include omnetpp.ini\n[Base]\nextends = PureAloha1\nsim-time-limit = 10s\n",
	"include.ini":    "include base.ini\n[Included]\nextends = Base\nAloha.numHosts = ${numHosts=2,4}\n",
	"constraint.ini": "include base.ini\n[Constraint]\nextends = Base\nAloha.numHosts = ${a=1..3}\nAloha.host[*].iaTime = exponential(${b=1..3}s)\nconstraint = $a < $b\n",
	"unnamed.ini":    "include base.ini\n[Unnamed]\nextends = Base\nAloha.numHosts = ${2,3}\nAloha.host[*].iaTime = exponential(${1, 2.5}s)\n",
	"dependent.ini":  "include base.ini\n[Dependent]\nextends = Base\nAloha.numHosts = ${a=2..3}\nAloha.host[*].iaTime = exponential(${b=$a..4}s)\n",
	"repeat.ini":     "include base.ini\n[Repeat]\nextends = Base\nrepeat = 3\nseed-set = ${repetition}\n",
	"seedset.ini":    "include base.ini\n[SeedSet]\nextends = Base\nseed-set = ${seed=5,7,11}\n",
	"extends.ini":    "include base.ini\n[A]\nextends = Base\nAloha.numHosts = ${n=2,3}\n[B]\nAloha.host[*].iaTime = exponential(${ia=1,2}s)\n[Both]\nextends = A, B\n",
	"multi1.ini":     "include base.ini\n[Multi]\nextends = Extra, Base\nAloha.numHosts = ${n=2,5}\n",
	"multi2.ini":     "[Extra]\nAloha.host[*].iaTime = exponential(${ia=1,3}s)\n",
	"resultdir.ini":  "include base.ini\n[ResultDir]\nextends = Base\nAloha.numHosts = ${n=2,3}\nresult-dir = own\n",
	"files.ini": "include base.ini\n[Files]\nextends = Base\nAloha.numHosts = ${n=2,3}\n" +
		"output-scalar-file = ${resultdir}/sca/${configname}-${runnumber}.sca\nrecord-eventlog = true\n",
}

// TestRealIniFeaturesMeanWhatOMNeTppMeans: for one ini per feature
// (include, constraint, unnamed variables, ${b=$a..4}, repeat, seed-set,
// extends = A, B, two -f files, --result-dir and result-dir =, an
// output-scalar-file override with .elog files asked for), the runs of
// `simswarm run`, of the same Campaign on a controller with workers, and
// of `simswarm expand` where it accepts the ini are those `opp_run -q runs`
// lists: the same numbers with the same iteration variables; and the local
// and the cluster run leave the same files (.vci, .elog, .out included).
func TestRealIniFeaturesMeanWhatOMNeTppMeans(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := t.TempDir()
	aloha := filepath.Join(dir, "aloha")
	omn.SampleAt(t, "aloha", aloha)
	sampleIni, err := os.ReadFile(filepath.Join(aloha, "omnetpp.ini"))
	if err != nil {
		t.Fatal(err)
	}
	base := string(sampleIni) + "\n" + strings.TrimPrefix(featureInis["base.ini"], "include omnetpp.ini\n")
	for name, body := range featureInis {
		if name != "include.ini" {
			body = strings.Replace(body, "include base.ini\n", base, 1)
		}
		writeFileT(t, filepath.Join(aloha, name), body)
	}
	std := []string{"results/*.sca", "results/*.vec", "results/*.vci", "results/*.out"}
	cases := []sampleCampaign{
		{name: "include", ini: "include.ini", config: "Included"},
		{name: "constraint", ini: "constraint.ini", config: "Constraint"},
		{name: "unnamed", ini: "unnamed.ini", config: "Unnamed"},
		{name: "dependent", ini: "dependent.ini", config: "Dependent"},
		{name: "repeat", ini: "repeat.ini", config: "Repeat"},
		{name: "seedset", ini: "seedset.ini", config: "SeedSet"},
		{name: "extends", ini: "extends.ini", config: "Both"},
		{name: "multi", ini: "multi1.ini", config: "Multi", program: []string{"./aloha", "-f", "multi2.ini"}},
		{name: "cmdline-dir", ini: "include.ini", config: "Included", program: []string{"./aloha", "--result-dir=cmdline"},
			results: []string{"cmdline/*.sca", "cmdline/*.vec", "cmdline/*.vci", "cmdline/*.out"}},
		{name: "ini-dir", ini: "resultdir.ini", config: "ResultDir", results: []string{"own/*.sca", "own/*.vec", "own/*.vci", "own/*.out"}},
		{name: "files", ini: "files.ini", config: "Files",
			results: []string{"results/*/*.sca", "results/*.vec", "results/*.vci", "results/*.elog", "results/*.out"}},
	}
	want := map[string][]oppcli.RunInfo{}
	ctx := context.Background()
	for i, c := range cases {
		c.source = "aloha"
		if c.program == nil {
			c.program = []string{"./aloha"}
		}
		if c.results == nil {
			c.results = std
		}
		cases[i] = c
		runs, err := oppcli.QueryRuns(ctx, c.program, aloha, c.ini, c.config, "", omn.Env())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want[c.name] = runs
		p := c.write(t, dir)

		// simswarm expand: the same runs, or a refusal.
		// simswarm expand reads only the named ini, and refuses include,
		// constraint and what it cannot resolve without the program's
		// other -f files; the rest it must expand as OMNeT++ does.
		refused := map[string]bool{"include": true, "constraint": true, "multi": true, "cmdline-dir": true}
		if out, err := cli(t, "expand", "-f", p); err != nil {
			if !refused[c.name] || !strings.Contains(err.Error(), "not supported") && !strings.Contains(err.Error(), "not defined") {
				t.Errorf("%s: simswarm expand refuses: %v", c.name, err)
			}
		} else if refused[c.name] {
			t.Errorf("%s: simswarm expand accepted what it cannot evaluate:\n%s", c.name, out)
		} else if got, perr := oppcli.ParseRuns(out); perr != nil || !slices.Equal(got, runs) {
			t.Errorf("%s: simswarm expand lists\n%s\nopp_run -q runs lists %v (%v)", c.name, out, runs, perr)
		}

		// simswarm run.
		recs, err := local.ReadRecords(runLocally(t, dir, c.name), c.name)
		if err != nil {
			t.Fatal(err)
		}
		var nums []int
		for n, r := range recs {
			nums = append(nums, n)
			if len(r.Files) == 0 {
				t.Errorf("%s: local run %d has no files", c.name, n)
			}
		}
		slices.Sort(nums)
		if !slices.Equal(nums, numbersOf(runs)) {
			t.Errorf("%s: simswarm run did runs %v, opp_run -q runs lists %v", c.name, nums, numbersOf(runs))
		}
	}

	st := startLocalCluster(t, 2).store(t)
	for _, c := range cases {
		mustCLI(t, "apply", "-f", filepath.Join(dir, c.name+".yaml"))
	}
	for _, c := range cases {
		waitSucceeded(t, c.name, "600s")
		if got := runNumbers(t, st, c.name); !slices.Equal(got, numbersOf(want[c.name])) {
			t.Errorf("%s: the campaign has runs %v, opp_run -q runs lists %v", c.name, got, numbersOf(want[c.name]))
		}
		// The iteration variables the builder recorded with the build.
		cp, err := st.Get(ctx, c.name)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := runlist.Get(ctx, st.DB, runlist.ID(cp.Status.Build.Key, runlist.QueryOf(cp.Spec.Simulation)))
		if err != nil || rec == nil {
			t.Fatalf("%s: no run list recorded with the build: %v", c.name, err)
		}
		listed, err := runlist.Runs(ctx, st.DB, rec)
		if err != nil || !slices.Equal(listed, want[c.name]) {
			t.Errorf("%s: the recorded runs are %v (%v), opp_run -q runs lists %v", c.name, listed, err, want[c.name])
		}
		pullSameAsLocal(t, dir, c.name)
	}
	if got := omnetpp.Tree(t, filepath.Join(dir, "pulled", "files")); !slices.Contains(got, "sca/Files-1.sca") || !slices.Contains(got, "Files-n=3-#0.elog") {
		t.Errorf("files: the override's .sca or the .elog is missing: %q", got)
	}
}
