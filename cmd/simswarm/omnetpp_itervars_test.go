package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// TestRealOMNeTppRunsShowTheirIterationVariables runs the constrained
// aloha sweep (OMNeT++'s own sample, 6 points of numHosts and iaMean, 2
// repetitions) on a controller with a builder and runners: `simswarm
// describe` lists every run with the iteration variables the program
// gives it (opp_run -q runs), and so does the dashboard's run list.
func TestRealOMNeTppRunsShowTheirIterationVariables(t *testing.T) {
	omn := omnetpp.Find(t)
	for _, kv := range omn.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" || k == "LD_LIBRARY_PATH" {
			t.Setenv(k, v)
		}
	}
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	startWorkers(t, rs.URL(), mongoURI, 2)

	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	if err := os.Rename(omn.Sample(t, "aloha"), model); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(model, "constraint.ini"), []byte(constraintIni), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := oppcli.QueryRuns(context.Background(), []string{"./aloha"}, model, "constraint.ini", "Constrained", "", omn.Env())
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 12 || !strings.Contains(want[0].Vars, "$numHosts=") || !strings.Contains(want[0].Vars, "$iaMean=") {
		t.Fatalf("opp_run -q runs: %+v", want)
	}
	mustCLI(t, "apply", "-f", omnetppManifest(t, dir, "constrained", ""))
	if out, err := cli(t, "wait", "constrained", "--timeout", "240s"); err != nil {
		t.Fatalf("wait: %v\n%s", err, out)
	}

	// describe: one line per run, its variables last.
	out := mustCLI(t, "describe", "campaign", "constrained", "--runs", "20")
	line := regexp.MustCompile(`(?m)^  (\d+)\s+Succeeded\s+\d+\s+(.*)$`)
	got := map[int]string{}
	for _, m := range line.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		got[n] = strings.TrimSpace(m[2])
	}
	if !strings.Contains(out, "Runs (12 of 12):") || len(got) != len(want) {
		t.Fatalf("describe lists %d runs, want %d:\n%s", len(got), len(want), out)
	}
	for _, r := range want {
		if got[r.Number] != r.Vars {
			t.Errorf("describe: run %d has %q, opp_run -q runs says %q", r.Number, got[r.Number], r.Vars)
		}
	}

	// The dashboard's run list, as the page reads it.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	base := "http://" + p.addr
	resp, err := hc.PostForm(base+"/ui/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	type runsPage struct {
		Runs struct {
			Indexed bool `json:"indexed"`
			Items   []struct {
				Run  int    `json:"run"`
				Vars string `json:"vars"`
			} `json:"items"`
		} `json:"runs"`
	}
	// The run list appears once the dashboard's run index was read.
	var page runsPage
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		page = runsPage{}
		resp, err := hc.Get(base + "/ui/api/campaigns/constrained?limit=50")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("dashboard view: %d %v", resp.StatusCode, err)
		}
		if page.Runs.Indexed && len(page.Runs.Items) == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard lists %d runs, want %d", len(page.Runs.Items), len(want))
		}
	}
	dash := map[int]string{}
	for _, it := range page.Runs.Items {
		dash[it.Run] = it.Vars
	}
	for _, r := range want {
		if dash[r.Number] != r.Vars {
			t.Errorf("dashboard: run %d has %q, opp_run -q runs says %q", r.Number, dash[r.Number], r.Vars)
		}
	}
}
