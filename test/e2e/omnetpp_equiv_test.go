package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
)

// TestRealSameFilesAsOppRunall: for each sample sweep, `opp_runall -j2`,
// `simswarm runall -j2` and `simswarm run -j 2` (a Campaign of the same
// runs) leave the same result files, .out included, at the same relative
// paths, and each file differs from opp_runall's only where two opp_runall
// runs differ from each other: the run id, the date and the process id (and
// what they shift: the .vci's record of its .vec, the progress lines of
// the .out). The batches are the same size (opp_runall's default), since a
// model may carry state from one run to the next inside a process.
func TestRealSameFilesAsOppRunall(t *testing.T) {
	for _, tc := range []struct {
		sample, program, config, runs string
		extra                         []string
	}{
		{"aloha", "./aloha", "PureAlohaExperiment", "0..9", nil},
		{"tictoc", "./tictoc", "TicToc18", "0..9", []string{"--sim-time-limit=20000s"}},
		{"fifo", "./fifo", "TandemQueueExperiment", "", nil},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			omnDir, env := realSample(t, tc.sample)
			args := append([]string{tc.program, "-c", tc.config}, tc.extra...)
			if tc.runs != "" {
				args = append(args, "-r", tc.runs)
			}
			// opp_runall, in its own copy.
			if r := runIn(t, omnDir, env, omnetpp.Find(t).Bin("opp_runall"), append([]string{"-j2"}, args...)...); r.code != 0 {
				t.Fatalf("opp_runall: %s", r)
			}
			want := tree(t, filepath.Join(omnDir, "results"))
			if len(want) == 0 {
				t.Fatal("opp_runall wrote nothing")
			}

			ssDir, _ := realSample(t, tc.sample)
			if r := runIn(t, ssDir, env, simswarmBin, append([]string{"runall", "-j2"}, args...)...); r.code != 0 {
				t.Fatalf("simswarm runall: %s", r)
			}
			sameFiles(t, "simswarm runall", filepath.Join(omnDir, "results"), filepath.Join(ssDir, "results"), want)

			runDir, _ := realSample(t, tc.sample)
			project := filepath.Dir(runDir)
			program := `"` + strings.Join(append([]string{tc.program}, tc.extra...), `", "`) + `"`
			writeFile(t, project, "campaign.yaml", fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: same
spec:
  source:
    path: %s
  build:
    command: ["true"]
  simulation:
    program: [%s]
    config: %s
    runs: %q
`, tc.sample, program, tc.config, tc.runs))
			if r := runIn(t, project, env, simswarmBin, "run", "-f", "campaign.yaml", "-j", "2", "--results", "out"); r.code != 0 {
				t.Fatalf("simswarm run: %s", r)
			}
			sameFiles(t, "simswarm run", filepath.Join(omnDir, "results"), filepath.Join(project, "out"), want)
		})
	}
}

// sameFiles compares the tree got with opp_runall's (want lists its
// files).
func sameFiles(t *testing.T, who, wantDir, gotDir string, want []string) {
	t.Helper()
	got := tree(t, gotDir)
	if !slices.Equal(got, want) {
		t.Fatalf("%s left\n%q\nopp_runall left\n%q", who, got, want)
	}
	for _, name := range want {
		w, err := os.ReadFile(filepath.Join(wantDir, name))
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(filepath.Join(gotDir, name))
		if err != nil {
			t.Fatal(err)
		}
		nw, ng := normalize(name, w), normalize(name, g)
		if !bytes.Equal(nw, ng) {
			t.Errorf("%s: %s differs from opp_runall's beyond run id, date and process id:\n%s", who, name, firstDiff(nw, ng))
		}
	}
}

// normalize removes what differs between two opp_runall runs of the same
// sweep: the run line, attr datetime/datetimef/processid; in a .vci also
// its .vec's modification time and the block offsets those lines shift
// (kept relative to the first block); in a .out the timing-dependent
// progress lines.
func normalize(name string, data []byte) []byte {
	var out bytes.Buffer
	firstOffset := int64(-1)
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "run "), strings.HasPrefix(line, "attr datetime "), strings.HasPrefix(line, "attr datetimef "),
			strings.HasPrefix(line, "attr processid "):
			continue
		}
		switch filepath.Ext(name) {
		case ".vci":
			if strings.HasPrefix(line, "file ") {
				continue
			}
			// A block: vector id, offset in the .vec, length, statistics.
			if f := strings.Fields(line); len(f) > 2 && line[0] >= '0' && line[0] <= '9' {
				if off, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					if firstOffset < 0 {
						firstOffset = off
					}
					f[1] = strconv.FormatInt(off-firstOffset, 10)
					line = strings.Join(f, " ")
				}
			}
		case ".out":
			if strings.HasPrefix(line, "** Event #") || strings.HasPrefix(line, "     Speed:") || strings.HasPrefix(line, "     Messages:") {
				continue
			}
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: opp_runall %q, simswarm %q", i+1, x, y)
		}
	}
	return "(none)"
}
