package sweep_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api/sweep"
	"github.com/simswarm/simswarm/test/omnetpp"
)

var (
	headerRE = regexp.MustCompile(`(?m)^\[\s*(?:Config\s+)?([^\]\s]+)\s*\]`)
	runRE    = regexp.MustCompile(`^Run \d+: `)
)

// TestAgreesWithOMNeTpp asks the real opp_run -q runs about every config of
// every testdata ini (one ini per OMNeT++ feature, include and constraint
// among them) and checks that this package lists exactly the same runs -
// count, numbers, iteration variables and their order - or refuses with an
// ErrUnsupported error naming the file and line. Where OMNeT++ itself
// rejects a config, so must this package.
func TestAgreesWithOMNeTpp(t *testing.T) {
	omn := omnetpp.Find(t)
	inis, err := filepath.Glob("testdata/*.ini")
	if err != nil || len(inis) == 0 {
		t.Fatalf("no testdata/*.ini: %v", err)
	}
	// And OMNeT++'s own samples, whose inis use [NAME] headers and ranges
	// inside lists.
	for _, s := range []string{"aloha", "tictoc", "fifo"} {
		inis = append(inis, filepath.Join(omn.Root, "samples", s, "omnetpp.ini"))
	}
	var same, refused, bothFail int
	for _, path := range inis {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		configs := []string{sweep.General}
		for _, m := range headerRE.FindAllStringSubmatch(string(text), -1) {
			if m[1] != sweep.General {
				configs = append(configs, m[1])
			}
		}
		ini, perr := sweep.ParseFile(path)
		for _, c := range configs {
			want, oppErr := oppRuns(t, omn, path, c)
			var got []sweep.Run
			goErr := perr
			if goErr == nil {
				got, goErr = ini.Runs(c)
			}
			switch {
			case errors.Is(goErr, sweep.ErrUnsupported):
				var se *sweep.Error
				if !errors.As(goErr, &se) || se.Line == 0 || !strings.HasPrefix(goErr.Error(), path+":") {
					t.Errorf("%s -c %s: a refusal must name the file and line: %v", path, c, goErr)
				}
				refused++
			case oppErr != nil:
				if goErr == nil {
					t.Errorf("%s -c %s: OMNeT++ rejects it (%v), api/sweep lists %d runs", path, c, oppErr, len(got))
				}
				bothFail++
			case goErr != nil:
				t.Errorf("%s -c %s: api/sweep rejects it (%v), OMNeT++ lists %d runs", path, c, goErr, len(want))
			default:
				var lines []string
				for _, r := range got {
					lines = append(lines, r.String())
				}
				if strings.Join(lines, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s -c %s: api/sweep lists %d runs, OMNeT++ %d:\n%s", path, c, len(lines), len(want), firstDiff(want, lines))
				}
				same++
			}
		}
	}
	t.Logf("%d configs listed as OMNeT++ lists them, %d refused, %d rejected by both", same, refused, bothFail)
	if same < 80 || refused < 7 {
		t.Errorf("too little compared: %d same, %d refused", same, refused)
	}
}

// oppRuns runs opp_run -q runs (no network or NED path is needed to list
// runs) and returns its "Run N: ..." lines, or an error with its message.
func oppRuns(t *testing.T, omn *omnetpp.Install, path, config string) ([]string, error) {
	t.Helper()
	cmd := exec.Command(omn.Bin("opp_run"), "-u", "Cmdenv", "-f", filepath.Base(path), "-c", config, "-q", "runs")
	cmd.Dir, cmd.Env = filepath.Dir(path), omn.Env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var runs []string
	for _, l := range strings.Split(out.String(), "\n") {
		if runRE.MatchString(l) {
			runs = append(runs, l)
		}
		if strings.Contains(l, "<!> Error") {
			return nil, errors.New(strings.TrimSpace(l))
		}
	}
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 && !strings.Contains(out.String(), "Number of runs: 0") {
		t.Fatalf("opp_run -f %s -c %s -q runs printed no runs:\n%s", path, config, out.String())
	}
	return runs, nil
}

func firstDiff(want, got []string) string {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return " OMNeT++:   " + w + "\n api/sweep: " + g
		}
	}
	return ""
}
