package main

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/omnetpp"
)

// TestRealOMNeTppRunsShowTheirIterationVariables runs the constrained
// aloha sweep (OMNeT++'s own sample, 6 points of numHosts and iaMean, 2
// repetitions) on a controller with a builder and runners: `simswarm
// describe` lists every run with the iteration variables the program
// gives it (opp_run -q runs), and so does the dashboard's run list.
func TestRealOMNeTppRunsShowTheirIterationVariables(t *testing.T) {
	omn := omnetpp.Find(t)
	omn.Setenv(t)
	cl := startLocalCluster(t, 2)

	dir := t.TempDir()
	_, want := constrainedAloha(t, omn, dir)
	if !strings.Contains(want[0].Vars, "$numHosts=") || !strings.Contains(want[0].Vars, "$iaMean=") {
		t.Fatalf("opp_run -q runs: %+v", want)
	}
	applyAndWait(t, constrainedManifest(t, dir, "constrained", ""), "constrained", "240s")

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
	base := "http://" + cl.addr
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
