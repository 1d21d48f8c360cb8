package main

import (
	"reflect"
	"testing"
)

func TestParseOppArgsSeparatesWhatRunallSets(t *testing.T) {
	inv, err := parseOppArgs([]string{"opp_run", "-l", "../src/INET", "-u", "Cmdenv", "-n", "../src", "-f", "wifi.ini", "-c", "Wifi", "-r", "0..9", "-q", "runs", "-s", "--result-dir=out", "--sim-time-limit=10s"})
	if err != nil {
		t.Fatal(err)
	}
	want := oppInvocation{
		program: []string{"opp_run", "-l", "../src/INET", "-n", "../src", "--sim-time-limit=10s"},
		ini:     "wifi.ini", config: "Wifi", filter: "0..9", resultDir: "out",
	}
	if !reflect.DeepEqual(inv, want) {
		t.Fatalf("got %+v\nwant %+v", inv, want)
	}
	inv, err = parseOppArgs([]string{"opp_run"})
	if err != nil || inv.ini != "omnetpp.ini" || inv.config != "General" || inv.filter != "" || inv.resultDir != "" {
		t.Fatalf("defaults: %+v, %v", inv, err)
	}
	for _, bad := range [][]string{{"opp_run", "-c"}, {"opp_run", "-r"}, {"opp_run", "--result-dir"}, {"./does-not-exist", "-c", "X"}} {
		if _, err := parseOppArgs(bad); err == nil {
			t.Errorf("parseOppArgs(%q) accepted", bad)
		}
	}
}
