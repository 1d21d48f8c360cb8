package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/test/omnetpp"
)

// growIni is an aloha sweep of two points; %REPEAT%, %N% and %SEED% are
// filled in by each step.
const growIni = "include omnetpp.ini\n[Grow]\nextends = PureAloha1\nsim-time-limit = 10s\n" +
	"Aloha.numHosts = ${n=%N%}\nrepeat = %REPEAT%\n%SEED%\n"

// runallSweep runs `simswarm runall -j2 ./aloha -f grow.ini -c Grow` in
// dir and returns the run line ("run Grow-3-2026...-PID", which names the
// process and moment that wrote it) of every .sca file by name, and the
// summary's counts line.
func runallSweep(t *testing.T, dir string) (map[string]string, string) {
	t.Helper()
	out, err := cli(t, "runall", "-C", dir, "-j", "2", "./aloha", "-f", "grow.ini", "-c", "Grow")
	if err != nil {
		t.Fatalf("runall: %v\n%s", err, out)
	}
	counts := regexp.MustCompile(`\d+ runs: \d+ succeeded, \d+ failed, \d+ skipped`).FindString(out)
	runLines := map[string]string{}
	scas, _ := filepath.Glob(filepath.Join(dir, "results", "Grow-*.sca"))
	for _, p := range scas {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "run ") {
				runLines[filepath.Base(p)] = sc.Text()
				break
			}
		}
		f.Close()
	}
	return runLines, counts
}

// changed are the names whose run line differs between before and after,
// or that are new.
func changed(before, after map[string]string) []string {
	var out []string
	for name, l := range after {
		if before[name] != l {
			out = append(out, name)
		}
	}
	return out
}

// TestRealRunallReusesRunsByIdentity: runall skips a run when a run of the
// same identity (program and NED content, arguments, config, iteration
// variables and resolved configuration) completed, whatever its number.
// Growing repeat from 5 to 10 with seed-set = ${repetition} runs only the
// 5 new repetitions of each point; without seed-set (its default is
// ${runnumber}) the runs whose number moved run again; a changed value of
// an iteration variable runs exactly the runs that see it.
func TestRealRunallReusesRunsByIdentity(t *testing.T) {
	_, write, step := growSweep(t)
	const seeded = "seed-set = ${repetition}"

	write("2,4", "5", seeded)
	runs := step("the first sweep", "10 runs: 10 succeeded, 0 failed, 0 skipped", 10, nil)
	write("2,4", "10", seeded)
	runs = step("repeat 5 -> 10", "20 runs: 10 succeeded, 0 failed, 10 skipped", 10, runs)
	runs = step("the same again", "20 runs: 0 succeeded, 0 failed, 20 skipped", 0, runs)
	write("2,6", "10", seeded)
	runs = step("n=2,4 -> n=2,6", "20 runs: 10 succeeded, 0 failed, 10 skipped", 10, runs)

	// OMNeT++ seeds a run by seed-set = ${runnumber} unless told
	// otherwise: growing repeat moves the numbers of point n=6's runs
	// (2, 3 -> 3, 4), so they run again; n=2's (0, 1) stay.
	write("2,6", "2", "")
	runs = step("without seed-set", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, runs)
	write("2,6", "3", "")
	step("without seed-set, repeat 2 -> 3", "6 runs: 4 succeeded, 0 failed, 2 skipped", 4, runs)
}

// TestRealRunallRerunsAfterANedEdit: the NED files the program loads (here
// the working directory's, OMNeT++'s default NED path) are part of a run's
// identity: a parameter default edited in Host.ned runs every run again.
func TestRealRunallRerunsAfterANedEdit(t *testing.T) {
	dir, write, step := growSweep(t)
	write("2,4", "2", "")
	runs := step("the first sweep", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, nil)
	host := filepath.Join(dir, "Host.ned")
	ned, err := os.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(ned), "controlAnimationSpeed = default(true)", "controlAnimationSpeed = default(false)", 1)
	if edited == string(ned) {
		t.Fatal("Host.ned has no controlAnimationSpeed default")
	}
	writeFileT(t, host, edited)
	runs = step("a parameter default edited in Host.ned", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, runs)
	step("the same again", "4 runs: 0 succeeded, 0 failed, 4 skipped", 0, runs)
}

// TestRealRunallRerunsAfterADataFileEdit: a file the configuration reads
// (readFile, xmldoc, readXML; here the transmission rate from the working
// directory and the slot time from a directory beside it) is part of a
// run's identity: editing either runs every run again, as editing the
// ini's value would, where a resume once said "already complete"; so does
// a file that a NED file reads.
func TestRealRunallRerunsAfterADataFileEdit(t *testing.T) {
	dir, write, step := growSweep(t)
	rate := filepath.Join(dir, "rate.txt")
	slot := filepath.Join(filepath.Dir(dir), "data", "slot.txt")
	if err := os.MkdirAll(filepath.Dir(slot), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFileT(t, rate, "9600\n")
	writeFileT(t, slot, "0\n")
	write("2,4", "2", `Aloha.txRate = double(readFile("rate.txt")) * 1bps`+"\n"+
		`Aloha.slotTime = double(readFile("../data/slot.txt")) * 1s`)
	runs := step("the first sweep", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, nil)
	runs = step("the same again", "4 runs: 0 succeeded, 0 failed, 4 skipped", 0, runs)
	writeFileT(t, rate, "4800\n")
	runs = step("rate.txt edited", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, runs)
	runs = step("the same again", "4 runs: 0 succeeded, 0 failed, 4 skipped", 0, runs)
	writeFileT(t, slot, "0.1\n")
	runs = step("../data/slot.txt edited", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, runs)
	runs = step("the same again", "4 runs: 0 succeeded, 0 failed, 4 skipped", 0, runs)

	// A NED file's own reads, resolved against its directory.
	anim := filepath.Join(filepath.Dir(dir), "data", "anim.txt")
	writeFileT(t, anim, "true\n")
	host := filepath.Join(dir, "Host.ned")
	ned, err := os.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(ned), "controlAnimationSpeed = default(true)",
		`controlAnimationSpeed = default(contains(readFile("../data/anim.txt"), "true"))`, 1)
	if edited == string(ned) {
		t.Fatal("Host.ned has no controlAnimationSpeed default")
	}
	writeFileT(t, host, edited)
	runs = step("Host.ned reading ../data/anim.txt", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, runs)
	runs = step("the same again", "4 runs: 0 succeeded, 0 failed, 4 skipped", 0, runs)
	writeFileT(t, anim, "false\n")
	runs = step("../data/anim.txt edited", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, runs)
	step("the same again", "4 runs: 0 succeeded, 0 failed, 4 skipped", 0, runs)
}

// TestRealRunallRerunsOnlyTheRunsNamingAnEditedFile: a file named through
// an iteration variable belongs to the runs that name it: editing one of
// two rate files runs again the two runs that read it, not the others.
func TestRealRunallRerunsOnlyTheRunsNamingAnEditedFile(t *testing.T) {
	dir, _, step := growSweep(t)
	writeFileT(t, filepath.Join(dir, "r1.txt"), "9600\n")
	writeFileT(t, filepath.Join(dir, "r2.txt"), "4800\n")
	writeFileT(t, filepath.Join(dir, "grow.ini"), "include omnetpp.ini\n[Grow]\nextends = PureAloha1\nsim-time-limit = 10s\n"+
		"repeat = 2\nseed-set = ${repetition}\nAloha.txRate = double(readFile(\"${rate=r1.txt,r2.txt}\")) * 1bps\n")
	runs := step("the first sweep", "4 runs: 4 succeeded, 0 failed, 0 skipped", 4, nil)
	// r1.txt is run 0's, whose whole configuration is every run's base:
	// the file still belongs to runs 0 and 1 alone.
	writeFileT(t, filepath.Join(dir, "r1.txt"), "2400\n")
	runs = step("r1.txt edited", "4 runs: 2 succeeded, 0 failed, 2 skipped", 2, runs)
	step("the same again", "4 runs: 0 succeeded, 0 failed, 4 skipped", 0, runs)
}

// TestRealRunallResumesWhenTheIniNamesTheResultFiles: the ini's own names
// for its result files (output-scalar-file) are strings naming files once
// a run has written them, but they are what a run writes, not what it
// reads: the next sweep skips every run.
func TestRealRunallResumesWhenTheIniNamesTheResultFiles(t *testing.T) {
	dir, _, step := growSweep(t)
	writeFileT(t, filepath.Join(dir, "grow.ini"), "include omnetpp.ini\n[Grow]\nextends = PureAloha1\nsim-time-limit = 10s\n"+
		"repeat = 2\noutput-scalar-file = \"${resultdir}/${configname}-${runnumber}.sca\"\n"+
		"output-vector-file = \"${resultdir}/${configname}-${runnumber}.vec\"\n")
	runs := step("the first sweep", "2 runs: 2 succeeded, 0 failed, 0 skipped", 2, nil)
	step("the same again", "2 runs: 0 succeeded, 0 failed, 2 skipped", 0, runs)
}

// growSweep copies the aloha sample for a test of runall's resume, and
// gives the writer of its grow.ini (growIni's n values, repeat, and
// seed-set line) and a step that runs the sweep, checks the summary's
// counts and how many result files were written (new, or with another run
// line than before), and returns the run lines.
func growSweep(t *testing.T) (string, func(n, repeat, seed string), func(what, wantCounts string, wantChanged int, before map[string]string) map[string]string) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := filepath.Join(t.TempDir(), "aloha")
	omn.SampleAt(t, "aloha", dir)
	write := func(n, repeat, seed string) {
		t.Helper()
		r := strings.NewReplacer("%N%", n, "%REPEAT%", repeat, "%SEED%", seed)
		writeFileT(t, filepath.Join(dir, "grow.ini"), r.Replace(growIni))
	}
	step := func(what, wantCounts string, wantChanged int, before map[string]string) map[string]string {
		t.Helper()
		after, counts := runallSweep(t, dir)
		if counts != wantCounts {
			t.Fatalf("%s: %q, want %q", what, counts, wantCounts)
		}
		if got := changed(before, after); len(got) != wantChanged {
			t.Fatalf("%s: %d result files written, want %d: %v", what, len(got), wantChanged, got)
		}
		return after
	}
	return dir, write, step
}

// TestRealRunReusesRunsByIdentity: `simswarm run` of a Campaign resumes by
// run identity too: growing repeat from 2 to 4 (seed-set = ${repetition})
// runs only the new repetitions, and their files join the old ones.
func TestRealRunReusesRunsByIdentity(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "aloha")
	omn.SampleAt(t, "aloha", model)
	c := sampleCampaign{name: "grow", source: "aloha", config: "Grow", ini: "grow.ini", program: []string{"./aloha"}}
	manifest := c.write(t, dir)
	run := func(repeat, want string) {
		t.Helper()
		r := strings.NewReplacer("%N%", "2,4", "%REPEAT%", repeat, "%SEED%", "seed-set = ${repetition}")
		writeFileT(t, filepath.Join(model, "grow.ini"), r.Replace(growIni))
		out, err := cli(t, "run", "-f", manifest, "-j", "2", "--results", filepath.Join(dir, "local", "grow"),
			"--workdir", filepath.Join(dir, "work", "grow"))
		if err != nil {
			t.Fatalf("simswarm run: %v\n%s", err, out)
		}
		if got := regexp.MustCompile(`\d+ runs: \d+ succeeded, \d+ failed, \d+ skipped`).FindString(out); got != want {
			t.Fatalf("repeat %s: %q, want %q\n%s", repeat, got, want, out)
		}
	}
	run("2", "4 runs: 4 succeeded, 0 failed, 0 skipped")
	run("4", "8 runs: 4 succeeded, 0 failed, 4 skipped")
	scas, _ := filepath.Glob(filepath.Join(dir, "local", "grow", "*", "Grow-*.sca"))
	if more, _ := filepath.Glob(filepath.Join(dir, "local", "grow", "Grow-*.sca")); len(more) > 0 {
		scas = append(scas, more...)
	}
	if len(scas) != 8 {
		t.Fatalf("%d .sca files, want 8: %v", len(scas), scas)
	}
}

// TestRealRunallResumesHoweverTheModelIsNamed: the same sweep started from
// the model's directory, with -C and an absolute or a relative path, or
// with the program's absolute path, is one sweep: a run's identity named
// the program and the NED directory as spelled, so each spelling ran every
// run again.
func TestRealRunallResumesHoweverTheModelIsNamed(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "aloha")
	omn.SampleAt(t, "aloha", dir)
	sweep := []string{"-c", "PureAlohaExperiment", "-r", "0..3"}
	for i, tc := range []struct {
		what, cwd string
		args      []string
		want      string
	}{
		{"from the model's directory", dir, []string{"./aloha"}, "4 runs: 4 succeeded, 0 failed, 0 skipped"},
		{"-C with an absolute path", parent, []string{"-C", dir, "./aloha"}, "4 runs: 0 succeeded, 0 failed, 4 skipped"},
		{"-C with a relative path", parent, []string{"-C", "aloha", "./aloha"}, "4 runs: 0 succeeded, 0 failed, 4 skipped"},
		{"the program's absolute path", dir, []string{filepath.Join(dir, "aloha")}, "4 runs: 0 succeeded, 0 failed, 4 skipped"},
		{"-C and the program's absolute path", t.TempDir(), []string{"-C", dir, filepath.Join(dir, "aloha")}, "4 runs: 0 succeeded, 0 failed, 4 skipped"},
	} {
		t.Chdir(tc.cwd)
		args := append(append([]string{"runall", "-j", "2"}, tc.args...), sweep...)
		out, err := cli(t, args...)
		if err != nil {
			t.Fatalf("%d %s: %v\n%s", i, tc.what, err, out)
		}
		if got := regexp.MustCompile(`\d+ runs: \d+ succeeded, \d+ failed, \d+ skipped`).FindString(out); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, got, tc.want)
		}
	}
}
