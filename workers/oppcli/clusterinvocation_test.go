package oppcli

import (
	"reflect"
	"slices"
	"strings"
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

// TestParseClusterInvocationAgreesWithParseInvocation pins the cluster split
// to the one reading of the command line: OMNeT++ 6.1 (src/envir/args.cc,
// checked with opp_run -q runnumbers) takes -cX and -fX as one word, a
// positional argument as an ini file, and the LAST -c and -r.
func TestParseClusterInvocationAgreesWithParseInvocation(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want ClusterInvocation
	}{
		{[]string{"opp_run", "-cPureAloha"}, ClusterInvocation{Program: []string{"opp_run"}, Ini: "omnetpp.ini", Config: "PureAloha"}},
		{[]string{"opp_run", "-c", "A", "-c", "B"}, ClusterInvocation{Program: []string{"opp_run"}, Ini: "omnetpp.ini", Config: "B"}},
		{[]string{"opp_run", "-r", "0", "-r1..3", "-c", "X"}, ClusterInvocation{Program: []string{"opp_run"}, Ini: "omnetpp.ini", Config: "X", Filter: "1..3"}},
		{[]string{"opp_run", "other.ini", "-c", "X"}, ClusterInvocation{Program: []string{"opp_run"}, Ini: "other.ini", Config: "X"}},
		{[]string{"opp_run", "-fother.ini", "-cX", "-l", "lib", "-nsrc"}, ClusterInvocation{Program: []string{"opp_run", "-l", "lib", "-nsrc"}, Ini: "other.ini", Config: "X"}},
		{[]string{"opp_run", "-c", "X", "--", "-odd.ini"}, ClusterInvocation{Program: []string{"opp_run"}, Ini: "-odd.ini", Config: "X"}},
		{[]string{"opp_run", "-uCmdenv", "-qruns", "-s", "--result-dir", "out", "-cX"}, ClusterInvocation{Program: []string{"opp_run"}, Ini: "omnetpp.ini", Config: "X", ResultDir: "out"}},
		// Not an opp_run option (the program says so when it lists the
		// runs); passed through, not taken for -c.
		{[]string{"opp_run", "--config=X"}, ClusterInvocation{Program: []string{"opp_run", "--config=X"}, Ini: "omnetpp.ini", Config: "General"}},
	} {
		got, err := ParseClusterInvocation(tc.args)
		if err != nil {
			t.Errorf("ParseClusterInvocation(%q): %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseClusterInvocation(%q)\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
		local, err := ParseInvocation(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		ini := "omnetpp.ini"
		if len(local.IniFiles) > 0 {
			ini = local.IniFiles[0]
		}
		if got.Config != local.Config || got.Filter != local.Filter || got.ResultDir != local.ResultDir || got.Ini != ini {
			t.Errorf("%q: cluster %+v, local %+v", tc.args, got, local)
		}
		// What a cluster run executes reads as the same simulation.
		back, err := ParseInvocation(append(slices.Clone(got.Program), "-f", got.Ini, "-c", got.Config))
		if err != nil || back.Config != local.Config || !reflect.DeepEqual(back.IniFiles, []string{ini}) {
			t.Errorf("%q: the cluster's command line reads as %+v (%v)", tc.args, back, err)
		}
	}
}

// TestParseClusterInvocationRefusesWhatItCannotHonour: a campaign has one
// ini file and always runs under Cmdenv; anything else is an error that
// names the argument, never dropped.
func TestParseClusterInvocationRefusesWhatItCannotHonour(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		names string
	}{
		{[]string{"opp_run", "a.ini", "-f", "b.ini"}, "b.ini"},
		{[]string{"opp_run", "-fa.ini", "-fb.ini"}, "b.ini"},
		{[]string{"opp_run", "-u", "Qtenv"}, "Qtenv"},
		{[]string{"opp_run", "-cX", "-f"}, "-f"},
	} {
		_, err := ParseClusterInvocation(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("ParseClusterInvocation(%q): %v, want an error naming %s", tc.args, err, tc.names)
		}
	}
}
