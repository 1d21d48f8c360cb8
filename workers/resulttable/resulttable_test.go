package resulttable

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testproc"
	"github.com/simswarm/simswarm/workers/resultindex"
)

func kv(n, v string) resultindex.KV { return resultindex.KV{Name: n, Value: v} }

func val(m, n string, v float64) resultindex.Value {
	return resultindex.Value{Module: m, Name: n, Value: v}
}

func TestTQuantile(t *testing.T) {
	for df, want := range map[int]float64{1: 12.7062047, 2: 4.3026527, 4: 2.7764451, 9: 2.2621572, 29: 2.0452296, 1000: 1.9623391} {
		if got := tQuantile(0.975, df); math.Abs(got-want) > 1e-6 {
			t.Errorf("t(0.975, %d) = %.7f, want %.7f", df, got, want)
		}
	}
}

func TestFilter(t *testing.T) {
	f, err := NewFilter([]string{"Aloha.server.channelUtilization:last", "**.host[*].{radioState,sent}:count", "Net.?.x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		module, name string
		want         bool
	}{
		{"Aloha.server", "channelUtilization:last", true},
		{"Aloha.server", "channelUtilization:mean", false},
		{"Aloha.serverX", "channelUtilization:last", false},
		{"Net.a.host[3]", "sent:count", true},
		{"Net.host[12]", "radioState:count", true},
		{"Net.host[1]", "other:count", false},
		{"Net.a", "x", true},
		{"Net.a.b", "x", false},
	} {
		if got := f.Match(c.module, c.name); got != c.want {
			t.Errorf("%s.%s: %v, want %v", c.module, c.name, got, c.want)
		}
	}
	for _, bad := range []string{"a{b", "a}b", strings.Repeat("x", 2000)} {
		if _, err := NewFilter([]string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

// TestTableDoesNotDependOnRunOrder: the same runs added in another order
// give the same table, bit for bit; NaN statistics are null in JSON.
func TestTableDoesNotDependOnRunOrder(t *testing.T) {
	type run struct {
		vars []resultindex.KV
		vals []resultindex.Value
	}
	var runs []run
	rng := rand.New(rand.NewPCG(1, 2))
	for p := range 5 {
		for rep := range 7 {
			runs = append(runs, run{[]resultindex.KV{kv("x", strconv.Itoa(p)), kv("repetition", strconv.Itoa(rep))},
				[]resultindex.Value{val("Net.m", "v", rng.Float64()*1e6), val("Net.m", "once", float64(p))}})
		}
	}
	runs = append(runs, run{[]resultindex.KV{kv("x", "9")}, []resultindex.Value{val("Net.m", "v", 1)}})
	table := func() string {
		b := NewBuilder(nil)
		for _, r := range runs {
			b.AddRun(r.vars, r.vals)
		}
		var out bytes.Buffer
		if err := b.Table().WriteJSON(&out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	first := table()
	rng.Shuffle(len(runs), func(i, j int) { runs[i], runs[j] = runs[j], runs[i] })
	if second := table(); second != first {
		t.Errorf("order changed the table:\n%s\n%s", first, second)
	}
	var tb Table
	if err := json.Unmarshal([]byte(first), &tb); err != nil {
		t.Fatal(err)
	}
	last := tb.Rows[len(tb.Rows)-1] // Net.m v x=9: one value
	if last.Name != "v" || last.Vars[0] != "9" || last.N != 1 || float64(last.Mean) != 1 || !math.IsNaN(float64(last.StdDev)) || !strings.Contains(first, `"ci95": null`) {
		t.Errorf("single-value row %+v", last)
	}
}

// TestTableAgreesWithScavetool: the table of a real aloha sweep (two
// repetitions of six points) has, for every scalar opp_scavetool shows
// (statistics' fields as scalars, -w), the n and the mean and standard
// deviation of the values opp_scavetool reads from the same files.
func TestTableAgreesWithScavetool(t *testing.T) {
	omn := omnetpp.Find(t)
	dir := omn.Sample(t, "aloha")
	cmd := exec.Command(omn.Bin("opp_runall"), "-j2", "./aloha", "-u", "Cmdenv", "-c", "PureAlohaExperiment", "-r", "0..11")
	cmd.Dir, cmd.Env = dir, omn.Env()
	testproc.Prepare(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("opp_runall: %v\n%s", err, out)
	}
	results := filepath.Join(dir, "results")
	got, err := FromDir(results, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Runs != 12 || got.ProblemCount != 0 {
		t.Fatalf("%d runs, problems %v", got.Runs, got.Problems)
	}
	want := scavetoolTable(t, omn, results)
	rows := map[string]Row{}
	for _, r := range got.Rows {
		rows[strings.Join(r.Vars, ",")+"|"+r.Module+"|"+r.Name] = r
	}
	compared := 0
	for k, vs := range want {
		r, ok := rows[k]
		if !ok {
			if !derived(k) {
				t.Errorf("%s: opp_scavetool has it, the table not", k)
			}
			continue
		}
		compared++
		var sum float64
		for _, v := range vs {
			sum += v
		}
		mean := sum / float64(len(vs))
		var ss float64
		for _, v := range vs {
			ss += (v - mean) * (v - mean)
		}
		sd := math.Sqrt(ss / float64(len(vs)-1))
		if r.N != len(vs) || !near(float64(r.Mean), mean) || !near(float64(r.StdDev), sd) {
			t.Errorf("%s: table n=%d mean=%g sd=%g; opp_scavetool's values %v: n=%d mean=%g sd=%g", k, r.N, r.Mean, r.StdDev, vs, len(vs), mean, sd)
		}
		if ci := float64(r.CI95); !near(ci, tQuantile(0.975, len(vs)-1)*sd/math.Sqrt(float64(len(vs)))) {
			t.Errorf("%s: ci95 %g", k, ci)
		}
	}
	if compared < 6*7 { // six points, seven scalars at least
		t.Errorf("compared %d rows", compared)
	}
	var text bytes.Buffer
	if err := got.WriteText(&text); err != nil || !strings.Contains(text.String(), "channelUtilization:last") {
		t.Errorf("text: %v\n%s", err, text.String())
	}
}

// derived: what opp_scavetool computes for a statistic beyond its fields
// in the file (the table shows what the file holds).
func derived(k string) bool {
	for _, s := range []string{":sumweights", ":numbins", ":rangemin", ":rangemax", ":underflows", ":overflows"} {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

func near(a, b float64) bool {
	if math.IsNaN(a) && math.IsNaN(b) || a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// scavetoolTable is opp_scavetool's reading of the scalars below dir, as
// "itervar values (in the table's column order),|module|name" → values.
func scavetoolTable(t *testing.T, omn *omnetpp.Install, dir string) map[string][]float64 {
	t.Helper()
	cmd := exec.Command(omn.Bin("opp_scavetool"), "export", "-T", "s", "-w", "-F", "CSV-R", "-x", "precision=17", "-o", "-", filepath.Join(dir, "*.sca"))
	cmd.Env = omn.Env()
	testproc.Prepare(cmd)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("opp_scavetool: %v", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]map[string]string{}
	for _, r := range recs[1:] {
		if r[1] == "itervar" {
			if vars[r[0]] == nil {
				vars[r[0]] = map[string]string{}
			}
			vars[r[0]][r[4]] = r[5]
		}
	}
	m := map[string][]float64{}
	for _, r := range recs[1:] {
		if r[1] != "scalar" {
			continue
		}
		v, err := strconv.ParseFloat(r[6], 64)
		if err != nil {
			t.Fatalf("opp_scavetool value %q", r[6])
		}
		k := vars[r[0]]["iaMean"] + "," + vars[r[0]]["numHosts"] + "|" + r[2] + "|" + r[3]
		m[k] = append(m[k], v)
	}
	return m
}

// The problems a table names do not depend on the order its runs were
// read in (compaction and merging change it): the first MaxProblems in
// natural order, numbers by value.
func TestProblemsDoNotDependOnReadOrder(t *testing.T) {
	var msgs []string
	for run := range 3 * MaxProblems {
		msgs = append(msgs, fmt.Sprintf("run %d: a.sca: line 2: bad", 7*run))
	}
	tables := map[string]bool{}
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		b := NewBuilder(nil)
		for i := range msgs {
			k := i
			if order[0] == 1 {
				k = len(msgs) - 1 - i
			}
			b.Problem(msgs[(k*13)%len(msgs)])
		}
		tb := b.Table()
		if tb.ProblemCount != len(msgs) || len(tb.Problems) != MaxProblems || tb.Problems[0] != msgs[0] || tb.Problems[2] != "run 14: a.sca: line 2: bad" || tb.Problems[MaxProblems-1] != msgs[MaxProblems-1] {
			t.Fatalf("problems %q (%d)", tb.Problems, tb.ProblemCount)
		}
		tables[strings.Join(tb.Problems, "\n")] = true
	}
	if len(tables) != 1 {
		t.Errorf("the problems depend on the order: %v", tables)
	}
}
