package oppcli

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
)

const bannerOutput = `OMNeT++ Discrete Event Simulation  (C) 1992-2024 OpenSim Ltd.
Version: 6.1, build: 241008-f7568267cd, edition: Academic Public License -- NOT FOR COMMERCIAL USE
See the license for distribution terms and warranty disclaimer

Setting up Cmdenv...

Loading NED files from .:  1

Config: PureAlohaExperiment
Number of runs: 4
Run numbers: 0 1 2 3

End.
`

func TestParseRunNumbers(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []int
	}{
		{"banner", bannerOutput, []int{0, 1, 2, 3}},
		{"silent", "0 1 2 5 8\n", []int{0, 1, 2, 5, 8}},
		{"silent-after-noise", "warning: something\n3 4\n", []int{3, 4}},
		{"single", "7", []int{7}},
		{"crlf", "Config: X\r\nRun numbers: 1 2\r\n", []int{1, 2}},
		{"zero runs", "Config: X\nNumber of runs: 0\n", []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRunNumbers(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseRunNumbersRejectsGarbage(t *testing.T) {
	for _, out := range []string{"", "hello world\n", "Run numbers: 1 x 3", "1 -2"} {
		if got, err := ParseRunNumbers(out); err == nil {
			t.Errorf("ParseRunNumbers(%q) = %v, want error", out, got)
		}
	}
}

func TestRunArgv(t *testing.T) {
	sim := api.SimulationSpec{Program: []string{"opp_run", "-l", "../src/INET"}, IniFile: "omnetpp.ini", Config: "Wifi"}
	got := RunArgv(sim, []int{3, 4})
	// opp_runall's command, and no result directory of simswarm's.
	want := []string{"opp_run", "-l", "../src/INET", "-f", "omnetpp.ini", "-c", "Wifi", "-s", "-u", "Cmdenv",
		"--cmdenv-redirect-output=true", "-r", "3,4"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
	if sim.Program[len(sim.Program)-1] != "../src/INET" {
		t.Fatal("RunArgv modified the program slice")
	}
}

func TestQueryRunNumbersRealProgram(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "sim")
	// A program that honours the contract: prints the banner form unless -s.
	body := `#!/bin/sh
silent=0; filter=""
while [ $# -gt 0 ]; do case "$1" in -s) silent=1;; -r) filter=$2; shift;; -c) [ "$2" = Missing ] && { echo "<!> Error: No such config: Missing" >&2; exit 1; }; shift;; esac; shift; done
nums="0 1 2 3"; [ -n "$filter" ] && nums=$(echo "$filter" | tr ',' ' ')
if [ $silent = 1 ]; then echo $nums; else echo "OMNeT++ banner"; echo "Run numbers: $nums"; fi
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := QueryRunNumbers(context.Background(), []string{script}, dir, "omnetpp.ini", "General", "1,3", nil)
	if err != nil || !reflect.DeepEqual(got, []int{1, 3}) {
		t.Fatalf("got %v, %v", got, err)
	}
	_, err = QueryRunNumbers(context.Background(), []string{script}, dir, "omnetpp.ini", "Missing", "", nil)
	if err == nil || !strings.Contains(err.Error(), "No such config") {
		t.Fatalf("error %v lacks the program's message", err)
	}
}
