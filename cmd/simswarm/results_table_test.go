package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResultsTableFromADirectory: `results table --dir` prints the table
// of the .sca files below a directory in each format, names a file it
// could not read, and refuses a NAME with --dir, an unknown format and a
// bad pattern.
func TestResultsTableFromADirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range []string{"1", "3"} {
		write("x-"+v+".sca", "version 3\nrun r"+v+"\nattr repetition "+string(rune('0'+i))+"\nitervar x 5\n\nscalar Net.m thr "+v+"\nscalar Net.m other 7\n")
	}
	write("junk.sca", "\x00\x01")
	text := mustCLI(t, "results", "table", "--dir", dir, "--scalar", "Net.m.thr")
	if !strings.Contains(text, "x  module  name  n  mean  stddev   ci95") || !strings.Contains(text, "5  Net.m   thr   2  2     1.41421  12.7062") ||
		strings.Contains(text, "other") || !strings.Contains(text, "1 of 3 runs could not be read:\n  junk.sca: sca line 1: binary content") {
		t.Errorf("text:\n%s", text)
	}
	recs, err := csv.NewReader(strings.NewReader(mustCLI(t, "results", "table", "--dir", dir, "-o", "csv"))).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != "x,module,name,n,mean,stddev,ci95" || recs[2][2] != "thr" || recs[2][4] != "2" {
		t.Errorf("csv %v %v", recs, err)
	}
	var js struct {
		Rows []struct {
			Mean float64 `json:"mean"`
		} `json:"rows"`
		ProblemCount int `json:"problemCount"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "results", "table", "--dir", dir, "--scalar", "**.other", "-o", "json")), &js); err != nil ||
		len(js.Rows) != 1 || js.Rows[0].Mean != 7 || js.ProblemCount != 1 {
		t.Errorf("json %+v %v", js, err)
	}
	for _, args := range [][]string{{"aloha", "--dir", dir}, {"--dir", dir, "-o", "xml"}, {"--dir", dir, "--scalar", "{"}, {}} {
		if _, err := cli(t, append([]string{"results", "table"}, args...)...); err == nil {
			t.Errorf("results table %v: no error", args)
		}
	}
}

// TestAnEmptyResultsTableSaysWhy: a table with no rows (a pattern that
// matches nothing, a directory without .sca files) says so on stderr.
func TestAnEmptyResultsTableSaysWhy(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.sca"), []byte("version 3\nrun r\nitervar x 5\n\nscalar Net.m thr 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, status := runManifestCmd(t, "results", "table", "--dir", dir, "--scalar", "Net.m.throughput")
	if status != 0 || !strings.Contains(stderr, "no scalar of the 1 runs read matches --scalar Net.m.throughput") {
		t.Errorf("a pattern matching nothing: status %d, stderr %q", status, stderr)
	}
	_, stderr, status = runManifestCmd(t, "results", "table", "--dir", t.TempDir())
	if status != 0 || !strings.Contains(stderr, "no .sca file of a run below") {
		t.Errorf("an empty directory: status %d, stderr %q", status, stderr)
	}
}

// TestResultsTableRefusesABadDirOrFormat: --dir naming nothing or a file,
// and an unknown -o, are invalid input (status 2) naming what is wrong,
// not a failure (1) or an empty table (0).
func TestResultsTableRefusesABadDirOrFormat(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.sca")
	if err := os.WriteFile(file, []byte("version 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nothing")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dir", missing}, "--dir " + missing + ": no such directory"},
		{[]string{"--dir", file}, "--dir " + file + ": not a directory"},
		{[]string{"--dir", t.TempDir(), "-o", "xml"}, `output format "xml": want text, csv or json`},
	} {
		_, stderr, status := runManifestCmd(t, append([]string{"results", "table"}, tc.args...)...)
		if status != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: status %d, stderr %q; want status 2 and %q", tc.args, status, stderr, tc.want)
		}
	}
}
