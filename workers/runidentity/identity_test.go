package runidentity

import (
	"slices"
	"testing"
)

var base = Inputs{ArtifactKey: "art-1", Argv: []string{"./aloha"}, WorkingDir: ".", Config: "PureAlohaExperiment"}

var run3 = Run{Number: 3, Vars: "$numHosts=10, $iaMean=2, $repetition=1", Entries: []Entry{
	{"repeat", "2"}, {"sim-time-limit", "90min"}, {"Aloha.numHosts", "10"},
	{"Aloha.host[*].iaTime", "exponential(2s)"}, {"network", "Aloha"}, {"Aloha.numHosts", "20"},
}}

// The encoding is pinned: an identity stored today must match the same
// run tomorrow, so a change here needs a new Version.
func TestIdentityIsStable(t *testing.T) {
	// Computed independently (Python hashlib) from the encoding doc.go and
	// field describe.
	const want = "a8e4f6faf98e42134ca0b0fbb1951a000d20d7317fdbfae1ec5a3c584050f1ee"
	if got := New(base).Of(run3); got != want {
		t.Fatalf("identity %s, pinned %s", got, want)
	}
}

func TestIdentityIgnoresRepeatAndRunNumber(t *testing.T) {
	id := New(base)
	run3 := run3
	run3.Entries = append(slices.Clone(run3.Entries), Entry{"seed-set", "1"}) // ${repetition}
	moved := run3
	moved.Number = 5 // repeat=4: the same point and repetition is run 5
	moved.Entries = slices.Clone(run3.Entries)
	moved.Entries[0].Value = "4"
	if id.Of(moved) != id.Of(run3) {
		t.Fatal("the same run under another repeat has another identity")
	}
	noRepeat := run3
	noRepeat.Entries = run3.Entries[1:]
	if id.Of(noRepeat) != id.Of(run3) {
		t.Fatal("repeat's presence changes the identity")
	}
}

// Every input that decides the result changes the identity.
func TestIdentityChangesWithWhatDecidesTheResult(t *testing.T) {
	ref := New(base).Of(run3)
	with := func(f func(*Inputs, *Run)) string {
		in, r := base, run3
		in.Argv = slices.Clone(base.Argv)
		r.Entries = slices.Clone(run3.Entries)
		f(&in, &r)
		return New(in).Of(r)
	}
	for name, f := range map[string]func(*Inputs, *Run){
		"artifact":          func(in *Inputs, _ *Run) { in.ArtifactKey = "art-2" },
		"program":           func(in *Inputs, _ *Run) { in.Argv = []string{"opp_run"} },
		"library":           func(in *Inputs, _ *Run) { in.Argv = append(in.Argv, "-l", "lib/x") },
		"ned path":          func(in *Inputs, _ *Run) { in.Argv = append(in.Argv, "-n", "ned") },
		"result dir":        func(in *Inputs, _ *Run) { in.Argv = append(in.Argv, "--result-dir=out") },
		"an option":         func(in *Inputs, _ *Run) { in.Argv = append(in.Argv, "--sim-time-limit=10s") },
		"working dir":       func(in *Inputs, _ *Run) { in.WorkingDir = "sub" },
		"config":            func(in *Inputs, _ *Run) { in.Config = "Other" },
		"repetition":        func(_ *Inputs, r *Run) { r.Vars = "$numHosts=10, $iaMean=2, $repetition=0" },
		"a variable":        func(_ *Inputs, r *Run) { r.Vars = "$numHosts=15, $iaMean=2, $repetition=1" },
		"a value":           func(_ *Inputs, r *Run) { r.Entries[3].Value = "exponential(3s)" },
		"a key":             func(_ *Inputs, r *Run) { r.Entries[2].Key = "Aloha.numHost" },
		"entry order":       func(_ *Inputs, r *Run) { r.Entries[2], r.Entries[5] = r.Entries[5], r.Entries[2] },
		"an entry more":     func(_ *Inputs, r *Run) { r.Entries = append(r.Entries, Entry{"seed-set", "0"}) },
		"an entry less":     func(_ *Inputs, r *Run) { r.Entries = r.Entries[:len(r.Entries)-1] },
		"field boundary":    func(_ *Inputs, r *Run) { r.Entries[4] = Entry{"networkA", "loha"} },
		"argv boundary":     func(in *Inputs, _ *Run) { in.Argv = []string{"./aloha", "--x=1"}; in.ArtifactKey = "art-1" },
		"key and value mix": func(_ *Inputs, r *Run) { r.Entries[1] = Entry{"sim-time-limit90min", ""} },
		"data files":        func(_ *Inputs, r *Run) { r.Files = "d1" },
	} {
		if with(f) == ref {
			t.Errorf("%s: the identity did not change", name)
		}
	}
	if with(func(*Inputs, *Run) {}) != ref {
		t.Fatal("the same inputs give another identity")
	}
}

// What only selects runs, names the ini files or sets up the output leaves
// the identity as it is.
func TestIdentityIgnoresSelectionAndOutputFlags(t *testing.T) {
	ref := New(base).Of(run3)
	for _, argv := range [][]string{
		{"./aloha", "-r", "3"},
		{"./aloha", "-r3", "-s", "-u", "Cmdenv", "--cmdenv-redirect-output=true"},
		{"./aloha", "-f", "omnetpp.ini", "-c", "PureAlohaExperiment", "-q", "runconfig"},
		{"./aloha", "-fother.ini", "-cX", "--cmdenv-redirect-output", "true", "omnetpp.ini"},
		{"./aloha", "--", "omnetpp.ini"},
	} {
		in := base
		in.Argv = argv
		if got := New(in).Of(run3); got != ref {
			t.Errorf("%q: another identity", argv)
		}
	}
	in := base
	in.WorkingDir, in.Config = "", "PureAlohaExperiment"
	if New(in).Of(run3) != ref {
		t.Error(`working dir "" is not "."`)
	}
	in = base
	in.Config = ""
	gen := base
	gen.Config = "General"
	if New(in).Of(run3) != New(gen).Of(run3) {
		t.Error(`config "" is not General`)
	}
}

// An entry that still refers to ${runnumber} makes the run number part of
// the identity; otherwise (with seed-set given) it is not.
func TestIdentityHasTheRunNumberOnlyWhenAnEntryRefersToIt(t *testing.T) {
	id := New(base)
	a := Run{Number: 3, Vars: "$repetition=0", Entries: []Entry{{"**.tag", "f(${runnumber})"}}}
	b := a
	b.Number = 4
	if id.Of(a) == id.Of(b) {
		t.Fatal("runs 3 and 4 of an entry naming ${runnumber} share an identity")
	}
	a.Entries = []Entry{{"**.tag", "f(3)"}, {"seed-set", "0"}}
	b.Entries = a.Entries
	if id.Of(a) != id.Of(b) {
		t.Fatal("the run number is in the identity without an entry naming it")
	}
}

func TestNormalizeArgv(t *testing.T) {
	got := NormalizeArgv([]string{"opp_run", "-l", "../lib/q", "-r", "0..9", "-n", ".:../lib", "-s", "a.ini", "-c", "X", "--result-dir", "out", "-u", "Cmdenv"})
	want := []string{"opp_run", "-l", "../lib/q", "-n", ".:../lib", "--result-dir", "out"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := NormalizeArgv([]string{"./aloha", "-c"}); !slices.Equal(got, []string{"./aloha", "-c"}) {
		t.Fatalf("an argv the program refuses is kept as it is: %q", got)
	}
	if NormalizeArgv(nil) != nil {
		t.Fatal("nil")
	}
}

// OMNeT++ seeds a run by seed-set, whose default is ${runnumber}
// (envirbase.cc), and -q runconfig lists only the entries an ini sets: a
// run without a seed-set entry is seeded by its number, so two runs that
// differ only in their number (the same point and repetition before and
// after repeat grew) simulate different things.
func TestIdentityHasTheRunNumberWhenSeedSetIsTheDefault(t *testing.T) {
	id := New(base)
	a := Run{Number: 3, Vars: "$x=1, $repetition=1", Entries: []Entry{{"repeat", "2"}, {"**.x", "1"}}}
	b := a
	b.Number = 5
	b.Entries = []Entry{{"repeat", "4"}, {"**.x", "1"}}
	if id.Of(a) == id.Of(b) {
		t.Fatal("runs 3 and 5 without a seed-set entry (seeded by their number) share an identity")
	}
	a.Entries = append(slices.Clone(a.Entries), Entry{"seed-set", "1"})
	b.Entries = append(slices.Clone(b.Entries), Entry{"seed-set", "1"})
	if id.Of(a) != id.Of(b) {
		t.Fatal("runs with the same seed-set entry differ by their number")
	}
}

// WithBase: the entries every run shares are hashed once, a varying one
// by its key and place; each run's details give the values.
func TestWithBaseHashesSharedEntriesOnceAndVaryingOnesPerRun(t *testing.T) {
	details := func(n int, hosts, rep string) Run {
		return Run{Number: n, Vars: "$numHosts=" + hosts + ", $repetition=" + rep, Entries: []Entry{{"Aloha.numHosts", hosts}, {"seed-set", rep}}}
	}
	shared := func(entries ...Entry) Run { return Run{Number: 0, Entries: entries} }
	run0 := shared(Entry{"repeat", "2"}, Entry{"seed-set", "0"}, Entry{"Aloha.numHosts", "10"}, Entry{"Aloha.txRate", "9.6kbps"}, Entry{"Aloha.numHosts", "20"})
	idOf := func(b Run, r Run) string { return New(base).WithBase(b, r).Of(r) }
	r := details(3, "20", "1")
	ref := idOf(run0, r)

	if got := idOf(run0, details(0, "10", "0")); got == ref {
		t.Fatal("two runs with other details share an identity")
	}
	grown := shared(Entry{"repeat", "4"}, Entry{"seed-set", "0"}, Entry{"Aloha.numHosts", "10"}, Entry{"Aloha.txRate", "9.6kbps"}, Entry{"Aloha.numHosts", "20"})
	moved := r
	moved.Number = 5
	if idOf(grown, moved) != ref {
		t.Fatal("growing repeat changed a seeded run's identity")
	}
	other := shared(Entry{"repeat", "2"}, Entry{"seed-set", "0"}, Entry{"Aloha.numHosts", "10"}, Entry{"Aloha.txRate", "19.2kbps"}, Entry{"Aloha.numHosts", "20"})
	if idOf(other, r) == ref {
		t.Fatal("a changed shared entry kept the identity")
	}
	// An earlier entry wins in OMNeT++: where a varying entry stands
	// among the shared ones is part of the identity.
	reordered := shared(Entry{"repeat", "2"}, Entry{"seed-set", "0"}, Entry{"Aloha.txRate", "9.6kbps"}, Entry{"Aloha.numHosts", "10"}, Entry{"Aloha.numHosts", "20"})
	if idOf(reordered, r) == ref {
		t.Fatal("a varying entry's place among the shared ones is not in the identity")
	}
	// A varying entry's value in run 0 is not the run's: it comes from
	// the details.
	run0b := shared(Entry{"repeat", "2"}, Entry{"seed-set", "7"}, Entry{"Aloha.numHosts", "99"}, Entry{"Aloha.txRate", "9.6kbps"}, Entry{"Aloha.numHosts", "20"})
	if idOf(run0b, r) != ref {
		t.Fatal("the base run's own values of varying entries changed another run's identity")
	}
	// Without seed-set anywhere, its default ${runnumber} seeds the run.
	unseeded := func(n int) Run {
		return Run{Number: n, Vars: "$numHosts=20, $repetition=1", Entries: []Entry{{"Aloha.numHosts", "20"}}}
	}
	plain := shared(Entry{"repeat", "2"}, Entry{"Aloha.numHosts", "10"})
	if idOf(plain, unseeded(3)) == idOf(plain, unseeded(5)) {
		t.Fatal("an unseeded run under another number kept its identity")
	}
	fixed := shared(Entry{"repeat", "2"}, Entry{"seed-set", "4"}, Entry{"Aloha.numHosts", "10"})
	if idOf(fixed, unseeded(3)) != idOf(fixed, unseeded(5)) {
		t.Fatal("a shared seed-set did not free the identity of the run number")
	}
	// Identities with a base never equal those without.
	if New(base).Of(r) == ref {
		t.Fatal("the encodings with and without a base meet")
	}
}

// Shared keeps base's order and leaves out every entry of a key that
// varies, the later duplicates of that key too.
func TestSharedLeavesOutTheVaryingKeys(t *testing.T) {
	base := Run{Entries: []Entry{{"repeat", "2"}, {"Aloha.numHosts", "10"}, {"Aloha.txRate", "9.6kbps"}, {"Aloha.numHosts", "20"}, {"network", "Aloha"}}}
	details := Run{Number: 3, Entries: []Entry{{"Aloha.numHosts", "15"}}}
	want := []Entry{{"repeat", "2"}, {"Aloha.txRate", "9.6kbps"}, {"network", "Aloha"}}
	if got := Shared(base, details); !slices.Equal(got, want) {
		t.Fatalf("Shared = %v, want %v", got, want)
	}
}
