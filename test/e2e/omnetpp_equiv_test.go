package e2e

import (
	"fmt"
	"path/filepath"
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

			ssDir, _ := realSample(t, tc.sample)
			if r := runIn(t, ssDir, env, simswarmBin, append([]string{"runall", "-j2"}, args...)...); r.code != 0 {
				t.Fatalf("simswarm runall: %s", r)
			}
			omnetpp.SameFiles(t, "simswarm runall", filepath.Join(omnDir, "results"), filepath.Join(ssDir, "results"))

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
			omnetpp.SameFiles(t, "simswarm run", filepath.Join(omnDir, "results"), filepath.Join(project, "out"))
		})
	}
}
