package aloha_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/sweep"
)

// Fragments the random inis are built from: the dialect's corners (quotes,
// comments, %g ranges, references, errors) so that the C parser and
// api/sweep are compared where they are most likely to differ.
var (
	randKeys   = []string{"**.a", "**.b", "**.host[*].c", "d", "sim-time-limit", "repeat", "extends"}
	randValues = []string{
		"${x=1,2}", "${y=1..3}", "${z=0..1 step 0.25}", "${w=0.1..0.35 step 0.05}", "${x}", "${y}",
		`${q = a , "b,c" }`, "${repetition}", "${v=1e5..3e5 step 1e5}",
		"plain", `"str # not a comment"`, "1 # comment",
		"${x=1,2} ${y=3,4}", "${t=-1..1 step 0.5}", "${s=1..1000 step 333.3}",
		`${p="Udp Basic", host[0]/eth0, */x}`, "${big=999999..1000001}", "${x=3, 4 ,5}",
		"${e=0.0001..0.0003 step 0.0001}", "uniform(${lo=1,2}s, ${hi}s)",
		`"a\"#b" # escaped quote`, `${k="x\",y", z}`, `${j="x\"#y", z}`,
	}
	// Values that make the file invalid, used now and then. (OMNeT++ reads
	// "${1,2}", "${=1}" and "${n=${m=1}}" as unnamed or text values, and
	// api/sweep with it; the C model does not, so they are not used here.)
	randBadValues = []string{"${v=5..2}", "${v=1..2 step 0}", "${r=1..2", "${repetition=1,2}"}
	randRepeats   = []string{"1", "2", "3", "0", "x", " 2 "}
	randConfigs   = []string{"A", "B", "C", "D"}
)

// randomIni writes an ini of a General section and some configs with
// random extends, keys and values.
func randomIni(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("# generated\n[General]\nnetwork = Aloha\n")
	writeEntries(r, &b, true)
	for _, c := range randConfigs[:1+r.IntN(len(randConfigs))] {
		fmt.Fprintf(&b, "\n[Config %s]\n", c)
		writeEntries(r, &b, false)
	}
	if r.IntN(20) == 0 {
		b.WriteString("include other.ini\n")
	}
	if r.IntN(20) == 0 {
		b.WriteString("[Config A]\n") // a section twice
	}
	return b.String()
}

func writeEntries(r *rand.Rand, b *strings.Builder, general bool) {
	used := map[string]bool{}
	for range r.IntN(4) {
		key := randKeys[r.IntN(len(randKeys))]
		if used[key] && r.IntN(8) != 0 { // now and then a key set twice
			continue
		}
		used[key] = true
		switch key {
		case "repeat":
			fmt.Fprintf(b, "repeat = %s\n", randRepeats[r.IntN(len(randRepeats))])
		case "extends":
			if general && r.IntN(4) != 0 {
				continue
			}
			parents := append([]string{"General", "Missing"}, randConfigs...)
			fmt.Fprintf(b, "extends = %s\n", parents[r.IntN(len(parents))])
		default:
			v := randValues[r.IntN(len(randValues))]
			if r.IntN(12) == 0 {
				v = randBadValues[r.IntN(len(randBadValues))]
			}
			fmt.Fprintf(b, "%s = %s\n", key, v)
		}
	}
}

// TestRandomInisAgreeWithGoSweep compares the C model's -q runs and
// -q runnumbers with api/sweep on a few hundred random inis built from the
// dialect's corners: the same configs fail, the others list the same runs.
func TestRandomInisAgreeWithGoSweep(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(2, 7)) // fixed: the same inis every time
	const n = 150
	var parsed, failed, compared int
	for i := range n {
		text := randomIni(r)
		path := filepath.Join(dir, fmt.Sprintf("r%03d.ini", i))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		ini, perr := sweep.ParseFile(path)
		for _, cfg := range append([]string{"General", "Missing"}, randConfigs...) {
			out, stderr, cerr := aloha(t, dir, "-f", path, "-c", cfg, "-q", "runs")
			if perr != nil {
				if cerr == nil {
					t.Errorf("%s [%s]: Go rejects the file (%v), the model lists\n%s\nini:\n%s", path, cfg, perr, out, text)
				}
				continue
			}
			runs, goErr := ini.Runs(cfg)
			if (goErr != nil) != (cerr != nil) {
				t.Errorf("%s [%s]: Go error %v, model error %v %s\nini:\n%s", path, cfg, goErr, cerr, stderr, text)
				continue
			}
			if goErr != nil {
				if !strings.HasPrefix(stderr, "<!> Error: ") {
					t.Errorf("%s [%s]: model stderr %q lacks <!> Error:", path, cfg, stderr)
				}
				failed++
				continue
			}
			var want strings.Builder
			var nums []string
			for _, run := range runs {
				want.WriteString(run.String() + "\n")
				nums = append(nums, fmt.Sprint(run.Number))
			}
			if out != want.String() {
				t.Errorf("%s [%s]: -q runs differs\n model:\n%s\n   Go:\n%s\nini:\n%s", path, cfg, out, want.String(), text)
			}
			silent := mustAloha(t, dir, "-f", path, "-c", cfg, "-q", "runnumbers", "-s")
			if silent != strings.Join(nums, " ")+"\n" {
				t.Errorf("%s [%s]: -q runnumbers -s = %q, want %d runs", path, cfg, silent, len(nums))
			}
			compared++
		}
		if perr == nil {
			parsed++
		}
	}
	t.Logf("%d random inis, %d parsed by both; %d configs listed identically, %d rejected by both", n, parsed, compared, failed)
	// The generator must exercise both sides, or the comparison says little.
	if parsed < n/5 || parsed > n*9/10 || compared < 50 || failed < 20 {
		t.Fatalf("unbalanced sample: %d parsed, %d compared, %d failed", parsed, compared, failed)
	}
}

// TestResultNamesOfAwkwardValues runs the model on the sweep golden with
// quoted values, spaces, slashes and '*' and checks that it names its
// result files exactly as sweep.Run.ResultBase does.
func TestResultNamesOfAwkwardValues(t *testing.T) {
	src, err := os.ReadFile("../../api/sweep/testdata/lists.ini")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Short runs: the golden sets no model parameters, so the model uses its
	// defaults; only the simulated time is cut.
	text := strings.Replace(string(src), "sim-time-limit = 90s", "sim-time-limit = 100s", 1)
	path := filepath.Join(dir, "omnetpp.ini")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ini, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []string{"Strings", "Lists", "TwoInOneValue", "NoVars"} {
		runs, err := ini.Runs(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res := filepath.Join(dir, "results-"+cfg)
		mustAloha(t, dir, "-c", cfg, "--result-dir", res)
		var want []string
		for _, r := range runs {
			want = append(want, r.ResultBase()+".sca", r.ResultBase()+".vec")
		}
		sort.Strings(want)
		if got := listDir(t, res); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: files\n got %q\nwant %q", cfg, got, want)
		}
	}
}

// TestCampaignManifestMatchesModel loads examples/aloha/campaign.yaml as
// simswarm does and checks that each campaign's config exists, has a few
// dozen runs, and that api/sweep (what `simswarm expand` prints) lists
// exactly the runs the built model lists with -q runs.
func TestCampaignManifestMatchesModel(t *testing.T) {
	dir := exampleDir(t)
	cs, err := api.LoadFile(filepath.Join(dir, "campaign.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d campaigns, want pure and slotted", len(cs))
	}
	for _, c := range cs {
		sim := c.Spec.Simulation
		if c.Spec.Source.Path != "." || len(sim.Program) == 0 || sim.Program[0] != "./aloha" {
			t.Errorf("%s: source %q, program %q", c.Metadata.Name, c.Spec.Source.Path, sim.Program)
		}
		ini, err := sweep.ParseFile(filepath.Join(dir, c.Spec.Source.Path, sim.WorkingDir, sim.IniFile))
		if err != nil {
			t.Fatal(err)
		}
		runs, err := ini.Runs(sim.Config)
		if err != nil {
			t.Fatalf("%s: %v", c.Metadata.Name, err)
		}
		if len(runs) < 24 || len(runs) > 60 {
			t.Errorf("%s: %d runs, want a few dozen", c.Metadata.Name, len(runs))
		}
		var want strings.Builder
		for _, r := range runs {
			want.WriteString(r.String() + "\n")
		}
		if got := mustAloha(t, dir, "-f", sim.IniFile, "-c", sim.Config, "-q", "runs"); got != want.String() {
			t.Errorf("%s: model lists\n%s\napi/sweep lists\n%s", c.Metadata.Name, got, want.String())
		}
	}
}
