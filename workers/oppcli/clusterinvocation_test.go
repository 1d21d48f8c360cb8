package oppcli

import (
	"reflect"
	"testing"
)

func TestParseClusterInvocationSeparatesWhatRunallSets(t *testing.T) {
	inv, err := ParseClusterInvocation([]string{"opp_run", "-l", "../src/INET", "-u", "Cmdenv", "-n", "../src", "-f", "wifi.ini", "-c", "Wifi", "-r", "0..9", "-q", "runs", "-s", "--result-dir=out", "--sim-time-limit=10s"})
	if err != nil {
		t.Fatal(err)
	}
	want := ClusterInvocation{
		Program: []string{"opp_run", "-l", "../src/INET", "-n", "../src", "--sim-time-limit=10s"},
		Ini:     "wifi.ini", Config: "Wifi", Filter: "0..9", ResultDir: "out",
	}
	if !reflect.DeepEqual(inv, want) {
		t.Fatalf("got %+v\nwant %+v", inv, want)
	}
	inv, err = ParseClusterInvocation([]string{"opp_run"})
	if err != nil || inv.Ini != "omnetpp.ini" || inv.Config != "General" || inv.Filter != "" || inv.ResultDir != "" {
		t.Fatalf("defaults: %+v, %v", inv, err)
	}
	for _, bad := range [][]string{{"opp_run", "-c"}, {"opp_run", "-r"}, {"opp_run", "--result-dir"}, {"./does-not-exist", "-c", "X"}} {
		if _, err := ParseClusterInvocation(bad); err == nil {
			t.Errorf("ParseClusterInvocation(%q) accepted", bad)
		}
	}
}
