package sweep

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, ini, want string
	}{
		{"repetition is reserved", "[General]\n**.x = ${repetition=1,2}\n", "t.ini:2: **.x: ${repetition=1,2}: $repetition is set by repeat = N, not defined"},
		{"include", "[General]\ninclude other.ini\n", "t.ini:2: include is not supported by simswarm's ini reader (only the program can list the runs: opp_run -q runs)"},
		{"continued line", "[General]\n**.x = 1,\n  2\n", "t.ini:3: an indented line (OMNeT++ continues the previous line with it) is not supported"},
		{"backslash", "[General]\n**.x = 1 \\\n", "t.ini:2: a line ending in a backslash"},
		{"underscore in a name", "[General]\n**.x = ${my_v=3}\n", `t.ini:2: **.x: ${my_v=3}: missing '=' after the variable name "my" (names are letters and digits)`},
		{"predefined", "[General]\n**.x = ${configname=a,b}\n", "t.ini:2: **.x: ${configname=a,b}: $configname is a predefined variable and cannot be defined"},
		{"unterminated", "[General]\n**.x = ${x=1,2\n", "t.ini:2: **.x: ${x=1,2 lacks its closing '}'"},
		{"reversed range", "[General]\n**.x = ${x=5..2}\n", "t.ini:2: **.x: ${x=5..2}: no values"},
		{"zero step", "[General]\n**.x = ${x=1..5 step 0}\n", "t.ini:2: **.x: ${x=1..5 step 0}: range 1..5 has step 0"},
		{"empty with negative step", "[General]\n**.x = ${x=1..5 step -1}\n", "t.ini:2: **.x: ${x=1..5 step -1}: no values"},
		{"huge range", "[General]\n**.x = ${x=0..1e9}\n", "t.ini:2: **.x: ${x=0..1e9}: range has 1000000001 values, more than the limit of 1000000 runs"},
		{"duplicate section", "[General]\n[Config A]\n[Config A]\n", "t.ini:3: section [Config A] appears twice (first at line 2)"},
		{"bad header", "[General]\n[Foo Bar]\n", `t.ini:2: section header "[Foo Bar]": want [General], [Config NAME] or [NAME]`},
		{"header with a dot", "[General]\n[a.b]\n", `t.ini:2: section header "[a.b]"`},
		{"unclosed header", "[Config A\n", `t.ini:1: section header "[Config A" lacks its closing ']'`},
		{"no equals", "[General]\nnetwork Aloha\n", `t.ini:2: expected "key = value", "[General]" or "[Config NAME]", got "network Aloha"`},
		{"duplicate key", "[General]\na = 1\nb = 2\na = 3\n", "t.ini:4: a is set twice in [General] (first at line 2)"},
		{"missing parent", "[Config A]\nextends = B\n", "t.ini:2: config A extends B, which is not defined"},
		{"missing second parent", "[Config A]\nextends = B, C\n[B]\n", "t.ini:2: config A extends C, which is not defined"},
		{"inconsistent parents", "[A]\n[B]\nextends = A\n[C]\nextends = A, B\n", "t.ini:5: config C: the configs it extends cannot be put in one fallback order"},
		{"self parent", "[Config A]\nextends = A\n", "t.ini:2: config A extends itself"},
		{"cycle", "[Config A]\nextends = B\n[Config B]\nextends = A\n", "t.ini:2: config A: extends chain is a cycle"},
		{"General extends", "[General]\nextends = A\n[Config A]\n", "t.ini:2: [General] cannot extend another config"},
		{"bad repeat", "[General]\nrepeat = two\n", "t.ini:2: repeat = two: want a whole number >= 1"},
		{"zero repeat", "[General]\nrepeat = 0\n", "t.ini:2: repeat = 0: want a whole number >= 1"},
		{"huge repeat", "[General]\nrepeat = 2000000\n", "t.ini:2: repeat = 2000000: more than the limit of 1000000 runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.ini), "t.ini")
			if err == nil {
				t.Fatalf("no error for:\n%s", tt.ini)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			var se *Error
			if !errors.As(err, &se) || se.File != "t.ini" || se.Line == 0 {
				t.Errorf("want *Error with file and line, got %#v", err)
			}
		})
	}
}

func TestParseAcceptsDialect(t *testing.T) {
	ini, err := Parse(strings.NewReader(`
# comment
[General]   
network = Aloha # trailing comment
description = "a # inside quotes"
**.x = ${x = 1 , 2}
repeat=3

[Config   B]
extends = General
`), "ok.ini")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ini.Configs(), ","); got != "General,B" {
		t.Errorf("Configs = %s", got)
	}
	runs, err := ini.Runs("B")
	if err != nil || len(runs) != 6 || runs[5].String() != "Run 5: $x=2, $repetition=2" {
		t.Errorf("Runs(B) = %v, %v", runs, err)
	}
	if _, err := ini.Runs("Nope"); err == nil || !strings.Contains(err.Error(), `ok.ini: no config "Nope" (configs: General, B)`) {
		t.Errorf("unknown config: %v", err)
	}
}

// -c General works even when the file has no [General] section.
func TestGeneralWithoutSection(t *testing.T) {
	ini, err := Parse(strings.NewReader("[Config A]\n**.x = ${x=1,2}\n"), "a.ini")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ini.Runs(General)
	if err != nil || len(runs) != 1 || runs[0].String() != "Run 0: $repetition=0" {
		t.Errorf("Runs(General) = %v, %v", runs, err)
	}
	if got := strings.Join(ini.Configs(), ","); got != "A" {
		t.Errorf("Configs = %s", got)
	}
}

func TestParseRefusesHugeInput(t *testing.T) {
	big := strings.NewReader("[General]\n" + strings.Repeat("# filler\n", MaxIniBytes/9+1))
	if _, err := Parse(big, "big.ini"); err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Errorf("huge ini: %v", err)
	}
}

func TestResultBase(t *testing.T) {
	tests := []struct {
		run  Run
		want string
	}{
		{Run{Number: 0, Config: "PureAloha", IterVars: []IterVar{{"numHosts", "10"}, {"iaMean", "1"}}}, "PureAloha-numHosts=10,iaMean=1-#0"},
		{Run{Number: 7, Config: "NoVars", Repetition: 2}, "NoVars-#7"},
		{Run{Number: 3, Config: "S", IterVars: []IterVar{{"app", `"Udp Basic"`}, {"dst", "host[0]/eth0"}, {"r", "1.5e+06"}}},
			"S-app=_Udp_Basic_,dst=host_0__eth0,r=1.5e+06-#3"},
		{Run{Number: 12, Config: "U", IterVars: []IterVar{{"v", "ü*?:\\"}}}, "U-v=_____-#12"},
	}
	for _, tt := range tests {
		if got := tt.run.ResultBase(); got != tt.want {
			t.Errorf("ResultBase(%v) = %q, want %q", tt.run, got, tt.want)
		}
	}
}

// Sweep computes single runs equal to the expanded list.
func TestSweepRunOnDemand(t *testing.T) {
	ini, err := ParseFile("testdata/extends.ini")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ini.Runs("Child")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := ini.Sweep("Child")
	if err != nil {
		t.Fatal(err)
	}
	if sw.Count() != len(runs) || strings.Join(sw.Vars(), ",") != "pkLen,numHosts,iaMean,slotTime" {
		t.Fatalf("Count %d (want %d), Vars %v", sw.Count(), len(runs), sw.Vars())
	}
	for i, want := range runs {
		got, err := sw.Run(i)
		if err != nil || got.String() != want.String() || got.ResultBase() != want.ResultBase() {
			t.Errorf("Run(%d) = %v, %v; want %v", i, got, err, want)
		}
	}
	if _, err := sw.Run(len(runs)); err == nil || !strings.Contains(err.Error(), "run 48 is out of range: config Child has 48 runs (0..47)") {
		t.Errorf("Run(out of range) = %v", err)
	}
	if _, err := sw.Run(-1); err == nil {
		t.Error("Run(-1) accepted")
	}
}

// A config with constraint = $a < $b over a, b = 1..3 has 3 runs in
// OMNeT++; it used to count 9 here. Whatever this package cannot evaluate
// is refused, naming the file, line, config and feature, never counted.
func TestRefusesWhatItCannotEvaluate(t *testing.T) {
	ini, err := ParseFile("testdata/refusals.ini")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ini.Configs() {
		if c == General {
			continue
		}
		n, err := ini.Count(c)
		var se *Error
		if err == nil || !errors.Is(err, ErrUnsupported) || !errors.As(err, &se) || se.Line == 0 {
			t.Errorf("-c %s: Count = %d, %v; want a refusal with a line", c, n, err)
			continue
		}
		if want := "testdata/refusals.ini:"; !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "opp_run -c "+c+" -q runs") {
			t.Errorf("-c %s: %v", c, err)
		}
	}
	_, err = Parse(strings.NewReader("[General]\ninclude common.ini\n"), "i.ini")
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("include: %v", err)
	}
	// A broken ini is an error, not a refusal.
	_, err = Parse(strings.NewReader("[General]\n**.x = ${x=1\n"), "b.ini")
	if err == nil || errors.Is(err, ErrUnsupported) {
		t.Errorf("broken ini: %v", err)
	}
}

// A sweep whose variables depend on others gives the same runs one by one
// as all at once.
func TestDependentSweepRunOnDemand(t *testing.T) {
	ini, err := ParseFile("testdata/varrefs.ini")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"Triangle", "Bounds", "Text", "Empty"} {
		runs, err := ini.Runs(c)
		if err != nil {
			t.Fatal(err)
		}
		sw, _ := ini.Sweep(c)
		for i, want := range runs {
			if got, err := sw.Run(i); err != nil || got.String() != want.String() {
				t.Errorf("-c %s Run(%d) = %v, %v; want %v", c, i, got, err, want)
			}
		}
	}
	ini, err = Parse(strings.NewReader("[General]\n**.a = ${a=1..1000}\n**.b = ${b=$a..2000}\n"), "big.ini")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ini.Count(General); err == nil || !strings.Contains(err.Error(), "more than the limit of 1000000 runs") {
		t.Errorf("1.5M dependent runs: %v", err)
	}
}
