package oppcli

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseInvocationReadsArgsAsOMNeTDoes(t *testing.T) {
	inv, err := ParseInvocation([]string{"opp_run", "-l", "../src/INET", "-n", "../src", "alone.ini", "-fextra.ini", "-c", "Wifi", "-c", "Other",
		"-r", "0..9", "--sim-time-limit", "10s", "--result-dir=out", "-s"})
	if err != nil {
		t.Fatal(err)
	}
	// The last -c counts, as in opp_run (ArgList::optionValue takes the
	// last); -f files are read before positional ones (startup.cc).
	if inv.Config != "Other" || inv.Filter != "0..9" || inv.ResultDir != "out" || !reflect.DeepEqual(inv.IniFiles, []string{"extra.ini", "alone.ini"}) {
		t.Fatalf("%+v", inv)
	}
	// The batch command keeps everything but -r, and adds what opp_runall adds.
	want := []string{"opp_run", "-l", "../src/INET", "-n", "../src", "alone.ini", "-fextra.ini", "-c", "Wifi", "-c", "Other",
		"--sim-time-limit", "10s", "--result-dir=out", "-s", "-u", "Cmdenv", "--cmdenv-redirect-output=true"}
	if got := inv.BatchArgs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("BatchArgs\n got %q\nwant %q", got, want)
	}
	inv, _ = ParseInvocation([]string{"./aloha", "-r3", "-u", "Cmdenv", "--cmdenv-redirect-output=false"})
	if got := inv.BatchArgs(); !reflect.DeepEqual(got, []string{"./aloha", "-u", "Cmdenv", "--cmdenv-redirect-output=false", "-s"}) {
		t.Fatalf("BatchArgs %q", got)
	}
	if inv.Config != "General" || inv.Filter != "3" || inv.IniFiles != nil {
		t.Fatalf("%+v", inv)
	}
	for _, bad := range [][]string{nil, {""}, {"./aloha", "-c"}, {"./aloha", "-r"}, {"./aloha", "--result-dir"}, {"./aloha", "--result-dir="}} {
		if _, err := ParseInvocation(bad); err == nil {
			t.Errorf("ParseInvocation(%q) accepted", bad)
		}
	}
}

func TestReadHeader(t *testing.T) {
	vci := "file 4743242 1796571356                                         \nversion 3\nrun PureAlohaExperiment-0-20261206-15:35:55-32462\n" +
		"attr configname PureAlohaExperiment\nattr iterationvars \"$numHosts=10, $iaMean=1\"\nattr iterationvarsf numHosts=10,iaMean=1-\n" +
		"attr repetition 0\nattr resultdir results\nattr runnumber 4\nitervar iaMean 1\nconfig cmdenv-redirect-output true\n" +
		"config sim-time-limit 5min\nconfig sim-time-limit 90min\n\nvector 0 Aloha.server channelState:vector ETV\n"
	h, ok := ReadHeader(strings.NewReader(vci))
	config, run, okRun := h.Run()
	if !ok || !okRun || config != "PureAlohaExperiment" || run != 4 || h.Attrs["iterationvars"] != "$numHosts=10, $iaMean=1" || h.Config["sim-time-limit"] != "5min" {
		t.Fatalf("%+v", h)
	}
	if out, ok := h.OutFile(); !ok || out != "results/PureAlohaExperiment-numHosts=10,iaMean=1-#0.out" {
		t.Fatalf("OutFile %q", out)
	}
	h, _ = ReadHeader(strings.NewReader("version 3\nrun x\nattr configname C\nattr runnumber 1\nconfig cmdenv-output-file out/r1.txt\n"))
	if out, ok := h.OutFile(); !ok || out != "out/r1.txt" {
		t.Fatalf("OutFile %q", out)
	}
	for _, other := range []string{"", "SQLite format 3\x00", "** Event #0 t=0\n", "hello\nrun x\n"} {
		if h, ok := ReadHeader(strings.NewReader(other)); ok {
			t.Errorf("ReadHeader(%q) = %+v", other, h)
		}
	}
}

func TestBatchLogSaysWhichRunsFinished(t *testing.T) {
	l := NewBatchLog("Fails", []int{0, 1, 2, 3})
	var finished []int
	l.OnFinished(func(r int) { finished = append(finished, r) })
	out := "Fails run 0: $n=2, $repetition=0\nFails run 1: $n=3, $repetition=0\nFails run 2: $n=-1, $repet" +
		"ition=0\n<!> Error -- see results/Fails-n=-1-#0.out for details\nOther run 3: not ours\n"
	for _, chunk := range strings.SplitAfter(out, "e") { // lines arrive in pieces
		l.Write([]byte(chunk))
	}
	if !reflect.DeepEqual(l.Started(), []int{0, 1, 2}) || !reflect.DeepEqual(finished, []int{0, 1}) {
		t.Fatalf("started %v, finished %v", l.Started(), finished)
	}
	errs := l.Errors(2)
	if len(errs) != 1 {
		t.Fatalf("errors of run 2: %q", errs)
	}
	if file, ok := RedirectedError(errs[0]); !ok || file != "results/Fails-n=-1-#0.out" {
		t.Fatalf("RedirectedError %q", file)
	}
	if !strings.Contains(l.Output(2), "Other run 3") {
		t.Fatalf("output of run 2: %q", l.Output(2))
	}
}

// IniFiles follows includes as the program does, relative to the file
// that includes (a cycle too), and names a file once.
func TestIniFilesFollowIncludes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "common"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"omnetpp.ini":     "include common/base.ini\n[Config A]\ninclude common/base.ini\n",
		"common/base.ini": "include more.ini\n**.x = 1\n",
		"common/more.ini": "include ../omnetpp.ini\n",
		"unrelated.ini":   "",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{filepath.Join(dir, "omnetpp.ini"), filepath.Join(dir, "common/base.ini"), filepath.Join(dir, "common/more.ini")}
	got := IniFiles(dir, nil)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("IniFiles = %q, want %q", got, want)
	}
}
