package scafile

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testproc"
)

// simulate runs a sample's program in a private copy and returns the .sca
// files it wrote.
func simulate(t *testing.T, omn *omnetpp.Install, sample string, args ...string) []string {
	t.Helper()
	dir := omn.Sample(t, sample)
	cmd := exec.Command("./"+sample, append([]string{"-u", "Cmdenv", "-s"}, args...)...)
	cmd.Dir, cmd.Env = dir, omn.Env()
	testproc.Prepare(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", sample, args, err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "results", "*.sca"))
	if len(files) == 0 {
		t.Fatalf("%s %v wrote no .sca", sample, args)
	}
	return files
}

// scavetool is what OMNeT++'s own reader makes of a file: its scalars
// (statistics' fields as scalars too, -w), run attributes and itervars,
// as "run|type|module|name" → value.
func scavetool(t *testing.T, omn *omnetpp.Install, file string) map[string]string {
	t.Helper()
	cmd := exec.Command(omn.Bin("opp_scavetool"), "export", "-T", "sp", "-w", "-F", "CSV-R", "-x", "precision=17", "-o", "-", file)
	cmd.Env = omn.Env()
	testproc.Prepare(cmd)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("opp_scavetool: %v", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("opp_scavetool's CSV: %v", err)
	}
	m := map[string]string{}
	for _, r := range recs[1:] { // run,type,module,name,attrname,attrvalue,value
		switch r[1] {
		case "runattr", "itervar":
			m[r[0]+"|"+r[1]+"||"+r[4]] = r[5]
		case "scalar", "param":
			m[r[0]+"|"+r[1]+"|"+r[2]+"|"+r[3]] = r[6]
		}
	}
	return m
}

func parseFile(t *testing.T, path string) *File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sca, err := Parse(f, Limits{})
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return sca
}

// TestSamplesAgreeWithScavetool parses the .sca files of real OMNeT++
// runs of the aloha, fifo and tictoc samples and checks every run
// attribute, itervar, parameter, scalar and statistic field against what
// opp_scavetool reads from the same file.
func TestSamplesAgreeWithScavetool(t *testing.T) {
	omn := omnetpp.Find(t)
	var files []string
	files = append(files, simulate(t, omn, "aloha", "-c", "PureAlohaExperiment", "-r", "3")...)
	files = append(files, simulate(t, omn, "fifo", "-c", "TandemQueueExperiment", "-r", "1")...)
	files = append(files, simulate(t, omn, "tictoc", "-c", "Tictoc16", "--sim-time-limit=50s")...)
	// Two runs appended to one file, as output-scalar-file-append makes it.
	files = append(files, simulate(t, omn, "aloha", "-c", "PureAlohaExperiment", "-r", "0,5",
		"--output-scalar-file=${resultdir}/both.sca", "--output-scalar-file-append=true")...)

	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			sca := parseFile(t, path)
			want := scavetool(t, omn, path)
			if sca.Version != 3 || sca.SkippedCount != 0 {
				t.Errorf("version %d, %d skipped (%v): want 3 and none", sca.Version, sca.SkippedCount, sca.Skipped)
			}
			if filepath.Base(path) == "both.sca" && len(sca.Runs) != 2 {
				t.Fatalf("%d runs in the appended file, want 2", len(sca.Runs))
			}
			got := map[string]float64{}
			gotText := map[string]string{}
			for _, r := range sca.Runs {
				for _, a := range r.Attrs {
					gotText[r.ID+"|runattr||"+a.Name] = a.Value
				}
				for _, a := range r.Itervars {
					gotText[r.ID+"|itervar||"+a.Name] = a.Value
				}
				for _, p := range r.Params {
					gotText[r.ID+"|param|"+p.Module+"|"+p.Name] = p.Value
				}
				for _, s := range r.Scalars {
					got[r.ID+"|scalar|"+s.Module+"|"+s.Name] = s.Value
				}
				for _, s := range r.Statistics {
					for _, f := range s.Fields {
						switch f.Name {
						case "mean", "stddev", "sum", "sqrsum":
							continue // scavetool shows none of these as they are in the file
						}
						got[r.ID+"|scalar|"+s.Module+"|"+s.Name+":"+f.Name] = f.Value
					}
					if len(s.Bins) > 0 {
						got[r.ID+"|scalar|"+s.Module+"|"+s.Name+":underflows"] = s.Bins[0].Value
						got[r.ID+"|scalar|"+s.Module+"|"+s.Name+":overflows"] = s.Bins[len(s.Bins)-1].Value
						got[r.ID+"|scalar|"+s.Module+"|"+s.Name+":numbins"] = float64(len(s.Bins) - 2)
						if !math.IsInf(s.Bins[0].Lower, -1) {
							t.Errorf("%s %s: first bin edge %g, want -inf", s.Module, s.Name, s.Bins[0].Lower)
						}
					}
				}
			}
			if len(got) == 0 {
				t.Fatal("no scalars parsed")
			}
			for k, v := range gotText {
				if w, ok := want[k]; !ok || w != v {
					t.Errorf("%s: parsed %q, opp_scavetool %q (present %v)", k, v, w, ok)
				}
			}
			for k, v := range got {
				w, ok := want[k]
				if !ok {
					t.Errorf("%s: parsed %g, opp_scavetool has none", k, v)
					continue
				}
				wv, err := strconv.ParseFloat(w, 64)
				if err != nil || !close(v, wv) {
					t.Errorf("%s: parsed %g, opp_scavetool %s", k, v, w)
				}
			}
			// And everything opp_scavetool shows as a scalar, the parser has
			// (with the fields scavetool derives left out).
			stats := map[string]bool{} // statistic → has bins
			for _, r := range sca.Runs {
				for _, s := range r.Statistics {
					stats[r.ID+"|scalar|"+s.Module+"|"+s.Name] = len(s.Bins) > 0
				}
			}
			n := 0
			for k := range want {
				if !strings.Contains(k, "|scalar|") {
					continue
				}
				if i := strings.LastIndexByte(k, ':'); i > 0 {
					bins, isStat := stats[k[:i]]
					switch field := k[i+1:]; {
					case isStat && (field == "sumweights" || field == "mean" || field == "stddev" || field == "rangemin" || field == "rangemax"):
						continue // derived by scavetool, not in the file
					case isStat && !bins && (field == "numbins" || field == "underflows" || field == "overflows"):
						continue // scavetool's zeros for a statistic without a histogram
					}
				}
				n++
				if _, ok := got[k]; !ok {
					t.Errorf("%s: opp_scavetool has it, the parser not", k)
				}
			}
			if n == 0 {
				t.Fatal("opp_scavetool shows no scalars: the comparison compared nothing")
			}
			// Written back and parsed again, the file is the same.
			var buf bytes.Buffer
			if err := Write(&buf, sca); err != nil {
				t.Fatal(err)
			}
			again, err := Parse(&buf, Limits{})
			if err != nil {
				t.Fatalf("parse what Write wrote: %v", err)
			}
			if d := diff(sca, again); d != "" {
				t.Errorf("round trip: %s", d)
			}
		})
	}
}

func close(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}
