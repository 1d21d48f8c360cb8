package apiserver_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testproc"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
	"github.com/simswarm/simswarm/workers/scafile"
)

// TestResultTableFromTheControllerEqualsTheTableOfTheFiles: the result
// index of real aloha runs (as runners write it) gives, through the API,
// the same table as the .sca files themselves (resulttable.FromDir, which
// its own test checks against opp_scavetool); a run whose .sca could not
// be indexed is named; the endpoint needs the token.
func TestResultTableFromTheControllerEqualsTheTableOfTheFiles(t *testing.T) {
	omn := omnetpp.Find(t)
	dir := omn.Sample(t, "aloha")
	cmd := exec.Command(omn.Bin("opp_runall"), "-j2", "./aloha", "-u", "Cmdenv", "-c", "PureAlohaExperiment", "-r", "0..7")
	cmd.Dir, cmd.Env = dir, omn.Env()
	testproc.Prepare(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("opp_runall: %v\n%s", err, out)
	}
	results := filepath.Join(dir, "results")
	c, st, _ := start(t)
	ctx := context.Background()
	cp, err := c.Apply(ctx, campaign("aloha"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(results, "*.sca"))
	var docs []*resultindex.Doc
	for _, p := range files {
		run := runNumber(t, p)
		docs = append(docs, resultindex.Build(resultindex.Run{Campaign: "aloha", UID: cp.Metadata.UID, Run: run, Attempt: 1}, []string{p}))
	}
	if len(docs) != 8 {
		t.Fatalf("%d .sca files", len(docs))
	}
	if errs, err := resultindex.Insert(ctx, st.DB, docs); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	for _, patterns := range [][]string{nil, {"Aloha.server.channelUtilization:last"}, {"**:{mean,count}", "*.server.duration"}} {
		remote, err := c.ResultTable(ctx, "aloha", patterns)
		if err != nil {
			t.Fatalf("%v: %v", patterns, err)
		}
		f, _ := resulttable.NewFilter(patterns)
		local, err := resulttable.FromDir(results, f)
		if err != nil {
			t.Fatal(err)
		}
		var a, b bytes.Buffer
		remote.WriteJSON(&a)
		local.WriteJSON(&b)
		if a.String() != b.String() || len(remote.Rows) == 0 || remote.Runs != 8 {
			t.Errorf("%v: the controller's table\n%s\nthe files' table\n%s", patterns, a.String(), b.String())
		}
	}

	bad := resultindex.Build(resultindex.Run{Campaign: "aloha", UID: cp.Metadata.UID, Run: 99, Attempt: 1}, []string{writeJunk(t)})
	if errs, err := resultindex.Insert(ctx, st.DB, []*resultindex.Doc{bad}); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	tb, err := c.ResultTable(ctx, "aloha", []string{"Aloha.server.channelUtilization:last"})
	if err != nil {
		t.Fatal(err)
	}
	if tb.ProblemCount != 1 || !strings.Contains(tb.Problems[0], "run 99: junk.sca: sca line 2: binary content") || tb.Runs != 8 {
		t.Errorf("problems %d %v, runs %d", tb.ProblemCount, tb.Problems, tb.Runs)
	}

	if _, err := client.New(c.Server, "wrong").ResultTable(ctx, "aloha", nil); code(err) != 401 {
		t.Errorf("wrong token: %v, want 401", err)
	}
	if _, err := c.ResultTable(ctx, "nosuch", nil); code(err) != 404 {
		t.Errorf("unknown campaign: %v, want 404", err)
	}
	if _, err := c.ResultTable(ctx, "aloha", []string{"a{b"}); code(err) != 400 {
		t.Errorf("bad pattern: %v, want 400", err)
	}
}

func runNumber(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sca, err := scafile.Parse(f, scafile.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := scafile.Attr(sca.Runs[0].Attrs, "runnumber")
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: runnumber %q", path, s)
	}
	return n
}

func writeJunk(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "junk.sca")
	if err := os.WriteFile(p, []byte("version 3\n\x00\x01\xff junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
