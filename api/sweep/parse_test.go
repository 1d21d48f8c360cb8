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
		{"unnamed variable", "[General]\n**.x = ${1,2,3}\n", "t.ini:2: **.x: ${1,2,3}: iteration variable needs a name, as in ${x=1,2,3}"},
		{"empty name", "[General]\n**.x = ${=1,2}\n", "t.ini:2: **.x: ${=1,2}: iteration variable needs a name"},
		{"bad name", "[General]\n**.x = ${a b=1,2}\n", `t.ini:2: **.x: ${a b=1,2}: "a b" is not a variable name`},
		{"repetition is reserved", "[General]\n**.x = ${repetition=1,2}\n", "t.ini:2: **.x: ${repetition=1,2}: $repetition is set by repeat = N, not defined"},
		{"include", "[General]\ninclude other.ini\n", "t.ini:2: include is not supported"},
		{"unterminated", "[General]\n**.x = ${x=1,2\n", "t.ini:2: **.x: ${x=1,2 lacks its closing '}'"},
		{"nested", "[General]\n**.x = ${x=1..${n}}\n", "t.ini:2: **.x: nested ${...} is not supported"},
		{"reversed range", "[General]\n**.x = ${x=5..2}\n", "t.ini:2: **.x: ${x=5..2}: range 5..2 is empty (start is greater than end)"},
		{"zero step", "[General]\n**.x = ${x=1..5 step 0}\n", "t.ini:2: **.x: ${x=1..5 step 0}: step 0 must be positive"},
		{"negative step", "[General]\n**.x = ${x=5..1 step -1}\n", "t.ini:2: **.x: ${x=5..1 step -1}: step -1 must be positive"},
		{"non-numeric range", "[General]\n**.x = ${x=a..b}\n", `t.ini:2: **.x: ${x=a..b}: range start "a" is not a number`},
		{"range in a list", "[General]\n**.x = ${x=1..5,10}\n", `t.ini:2: **.x: ${x=1..5,10}: ranges inside lists are not supported ("1..5")`},
		{"empty list item", "[General]\n**.x = ${x=1,,2}\n", "t.ini:2: **.x: ${x=1,,2}: empty value in the list (item 2)"},
		{"huge range", "[General]\n**.x = ${x=0..1e9}\n", "t.ini:2: **.x: ${x=0..1e9}: range has 1000000001 values, more than the limit of 1000000 runs"},
		{"outside a section", "**.x = 1\n[General]\n", `t.ini:1: "**.x" is outside a section: start the file with [General]`},
		{"duplicate section", "[General]\n[Config A]\n[Config A]\n", "t.ini:3: section [Config A] appears twice (first at line 2)"},
		{"bad header", "[General]\n[Foo]\n", `t.ini:2: section header "[Foo]": want [General] or [Config NAME]`},
		{"config named General", "[Config General]\n", `t.ini:1: section header "[Config General]"`},
		{"unclosed header", "[Config A\n", `t.ini:1: section header "[Config A" lacks its closing ']'`},
		{"no equals", "[General]\nnetwork Aloha\n", `t.ini:2: expected "key = value", "[General]" or "[Config NAME]", got "network Aloha"`},
		{"duplicate key", "[General]\na = 1\nb = 2\na = 3\n", "t.ini:4: a is set twice in [General] (first at line 2)"},
		{"missing parent", "[Config A]\nextends = B\n", "t.ini:2: config A extends B, which is not defined"},
		{"multiple parents", "[Config A]\nextends = B, C\n", "t.ini:2: extends = B, C: only a single parent config is supported"},
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
	if sw.Count() != len(runs) || strings.Join(sw.Vars(), ",") != "pkLen,numHosts,slotTime" {
		t.Fatalf("Count %d (want %d), Vars %v", sw.Count(), len(runs), sw.Vars())
	}
	for i, want := range runs {
		got, err := sw.Run(i)
		if err != nil || got.String() != want.String() || got.ResultBase() != want.ResultBase() {
			t.Errorf("Run(%d) = %v, %v; want %v", i, got, err, want)
		}
	}
	if _, err := sw.Run(len(runs)); err == nil || !strings.Contains(err.Error(), "run 16 is out of range: config Child has 16 runs (0..15)") {
		t.Errorf("Run(out of range) = %v", err)
	}
	if _, err := sw.Run(-1); err == nil {
		t.Error("Run(-1) accepted")
	}
}
