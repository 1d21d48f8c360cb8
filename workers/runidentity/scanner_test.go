package runidentity

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

const runconfigOut = `OMNeT++ Discrete Event Simulation  (C) 1992-2024 Andras Varga, OpenSim Ltd.
Setting up Cmdenv...

Config: Foo
Number of runs: 12
Number of runs selected: 2

Run 0: $n=1, $x=2, $repetition=0
	seed-set = 0
	repeat = 3
	Aloha.host[*].iaTime = exponential(2s)
	**.y = "a = b"
	**.empty =
	network = Aloha

Run 5: $n=2, $x=3, $repetition=2
	repeat = 3
	network = Aloha

End.
`

func TestScanReadsRunsAndEntries(t *testing.T) {
	runs, err := Parse(strings.NewReader(strings.ReplaceAll(runconfigOut, "network = Aloha\n\nRun 5", "network = Aloha\r\n\r\nRun 5")))
	if err != nil {
		t.Fatal(err)
	}
	want := []Run{
		{Number: 0, Vars: "$n=1, $x=2, $repetition=0", Entries: []Entry{
			{"seed-set", "0"}, {"repeat", "3"}, {"Aloha.host[*].iaTime", "exponential(2s)"},
			{"**.y", `"a = b"`}, {"**.empty", ""}, {"network", "Aloha"}}},
		{Number: 5, Vars: "$n=2, $x=3, $repetition=2", Entries: []Entry{{"repeat", "3"}, {"network", "Aloha"}}},
	}
	if !reflect.DeepEqual(runs, want) {
		t.Fatalf("got  %+v\nwant %+v", runs, want)
	}
}

// -q runs output (no entries), with the banner or without (-s).
func TestScanReadsRunsListings(t *testing.T) {
	for _, out := range []string{
		"Config: X\nNumber of runs: 2\n\nRun 0: $a=1, $repetition=0\nRun 1: $a=2, $repetition=0\n\nEnd.\n",
		"Run 0: $a=1, $repetition=0\nRun 1: $a=2, $repetition=0\n",
	} {
		runs, err := Parse(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		want := []Run{{Number: 0, Vars: "$a=1, $repetition=0"}, {Number: 1, Vars: "$a=2, $repetition=0"}}
		if !reflect.DeepEqual(runs, want) {
			t.Fatalf("%q: got %+v", out, runs)
		}
	}
}

func TestScanRefusesWhatItCannotTrust(t *testing.T) {
	for name, tc := range map[string]struct{ out, want string }{
		"entry outside a run": {"Config: X\n\tnetwork = A\nRun 0: $repetition=0\n", "line 2: an entry outside a run"},
		"entry without =":     {"Run 0: $repetition=0\n\tnetwork A\n", `line 2: entry "network A" is not`},
		"numbers not rising":  {"Run 1: $repetition=0\nRun 1: $repetition=1\n", "line 2: run 1 listed after run 1"},
		"fewer than declared": {"Number of runs: 3\nRun 0: $repetition=0\n\tx = 1\nRun 1: $repetition=1\n", "the program says 3 runs but lists 2"},
		"more than selected":  {"Number of runs: 3\nNumber of runs selected: 1\nRun 0: $repetition=0\nRun 1: $repetition=1\n", "says 1 runs but lists 2"},
		"nothing":             {"Config: X\nEnd.\n", "no runs in the output"},
		"line too long":       {"Run 0: $repetition=0\n\tx = " + strings.Repeat("a", MaxLine) + "\n", "line 2: bufio.Scanner: token too long"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.out))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if runs, err := Parse(strings.NewReader("Number of runs: 0\n")); err != nil || len(runs) != 0 {
		t.Fatalf("an empty config: %v %v", runs, err)
	}
}

// A million runs stream through one Scanner without the listing in memory.
func TestScanStreamsAMillionRuns(t *testing.T) {
	const n = 1_000_000
	pr := &runconfigGen{n: n}
	sc := NewScanner(pr)
	id := New(Inputs{ArtifactKey: "k", Argv: []string{"./aloha"}, Config: "X"})
	seen := map[string]bool{}
	count := 0
	for sc.Scan() {
		r := sc.Run()
		if r.Number != count || len(r.Entries) != 2 {
			t.Fatalf("run %d: %+v", count, r)
		}
		if count%1000 == 0 {
			seen[id.Of(r)] = true
		}
		count++
	}
	if err := sc.Err(); err != nil || count != n || len(seen) != n/1000 {
		t.Fatalf("%d runs, %d identities, %v", count, len(seen), err)
	}
}

// runconfigGen writes a runconfig listing of n runs on demand.
type runconfigGen struct {
	n, i int
	buf  []byte
}

func (g *runconfigGen) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i > g.n {
			return 0, io.EOF
		}
		if g.i == 0 {
			g.buf = fmt.Appendf(g.buf, "Config: X\nNumber of runs: %d\n\n", g.n)
		}
		if g.i < g.n {
			g.buf = fmt.Appendf(g.buf, "Run %d: $a=%d, $repetition=%d\n\tseed-set = %d\n\tnetwork = Net\n", g.i, g.i/10, g.i%10, g.i%10)
		}
		g.i++
	}
	k := copy(p, g.buf)
	g.buf = g.buf[k:]
	return k, nil
}
