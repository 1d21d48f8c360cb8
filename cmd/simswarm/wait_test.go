package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/simswarm/simswarm/api"
)

// TestWaitRidesOutAnUnreachableController: `simswarm wait` keeps waiting
// while the controller restarts (connections refused, 502/503 from a proxy
// in front of it) and ends with the campaign's outcome; a 4xx answer, such
// as an unknown campaign, ends it at once.
func TestWaitRidesOutAnUnreachableController(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/nosuch"):
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "code": 404, "reason": "NotFound", "message": `campaign "nosuch" not found`})
		case n == 1:
			// The connection dies as it does when the controller is killed.
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case n == 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			c := api.Campaign{Metadata: api.ObjectMeta{Name: "c", Generation: 1}}
			c.Status.ObservedGeneration = 1
			c.Status.Phase = api.PhaseSucceeded
			c.Status.Runs.Succeeded = 3
			json.NewEncoder(w).Encode(c)
		}
	}))
	defer srv.Close()
	t.Setenv("SIMSWARM_SERVER", srv.URL)
	t.Setenv("SIMSWARM_TOKEN", "wait-test-token-0123456789")
	out, err := cli(t, "wait", "c", "--interval", "10ms", "--timeout", "10s")
	if err != nil || !strings.Contains(out, "campaign/c succeeded (3 runs)") {
		t.Fatalf("wait across a controller restart: %v\n%s", err, out)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d requests, want 3 (two failures, then the answer)", calls.Load())
	}
	if _, err := cli(t, "wait", "nosuch", "--interval", "10ms", "--timeout", "10s"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("wait for an unknown campaign: %v", err)
	}
}

// TestWaitLineSaysWhyPassesFail: while the controller's passes of a
// campaign fail (its queue's Redis down), wait's progress line says so
// with the error's reason, not only the last counts; once a pass succeeds
// it is the counts alone again.
func TestWaitLineSaysWhyPassesFail(t *testing.T) {
	c := &api.Campaign{Status: api.CampaignStatus{Phase: api.PhaseRunning, Runs: api.RunCounts{Total: 10, Succeeded: 3}}}
	c.Status.Conditions = []api.Condition{
		{Type: api.ConditionReady, Status: api.ConditionFalse, Reason: "QueueUnavailable", Message: "dial tcp: connection refused"},
		{Type: api.ConditionReconciling, Status: api.ConditionTrue, Reason: api.ReasonProgressingWithRetry},
	}
	if line := progressLine("c", c); !strings.Contains(line, "3/10") || !strings.Contains(line, "QueueUnavailable: dial tcp: connection refused") {
		t.Fatalf("wait line while passes fail: %q", line)
	}
	c.Status.Conditions = []api.Condition{
		{Type: api.ConditionReady, Status: api.ConditionFalse, Reason: "Running", Message: "running"},
		{Type: api.ConditionReconciling, Status: api.ConditionTrue, Reason: "Running", Message: "running"},
	}
	if line := progressLine("c", c); line != "c: Running 3/10 succeeded, 0 failed, 0 running, 0 queued" {
		t.Fatalf("wait line of a healthy pass: %q", line)
	}
}
