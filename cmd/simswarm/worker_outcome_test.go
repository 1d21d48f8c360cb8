package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
)

// scriptCampaign writes a campaign whose simulation is the shell script
// sim (it gets opp_run's arguments, with $RESULTS its result directory; a
// query, -q, does not run it: the config's runs are 0 to the largest run
// number the filter runs names) and returns the manifest's path.
func scriptCampaign(t *testing.T, dir, name, sim, runs string, retries int) string {
	t.Helper()
	model := filepath.Join(dir, "model")
	os.MkdirAll(model, 0o755)
	os.WriteFile(filepath.Join(model, "omnetpp.ini"), []byte("[General]\n"), 0o644)
	script := "#!/bin/sh\n" + shListsRuns(t, runs) + "case \" $* \" in *\" -q \"*) exit 0;; esac\n" +
		"RESULTS=results\nfor a; do case $a in --result-dir=*) RESULTS=${a#--result-dir=};; esac; done\nmkdir -p \"$RESULTS\"\n" + sim + "\n"
	os.WriteFile(filepath.Join(model, "sim.sh"), []byte(script), 0o755)
	manifest := filepath.Join(dir, name+".yaml")
	os.WriteFile(manifest, []byte(fmt.Sprintf(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: %s
spec:
  source:
    path: model
  build:
    command: ["true"]
  simulation:
    program: ["./sim.sh"]
    runs: %q
  results: ["results/*.sca"]
  retries: %d
  timeout: 1m
`, name, runs, retries)), 0o644)
	return manifest
}

// TestRefusedResultNameFailsTheCampaign: a run whose result file name the
// runner refuses (a backslash) was dropped by the runner without an
// outcome and sent again by the controller about twice a second, for
// ever. It must fail like `simswarm run` fails it: each attempt recorded
// (here 2, retries: 1), the campaign Failed, the reason in describe and
// logs and the runner's log.
func TestRefusedResultNameFailsTheCampaign(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	dir := t.TempDir()
	count := filepath.Join(dir, "executions")
	manifest := scriptCampaign(t, dir, "badname", fmt.Sprintf(`echo x >> %q; echo x > "$RESULTS/a\\b.sca"`, count), "0", 1)
	ps := startWorkers(t, rs.URL(), mongoURI, 1)
	mustCLI(t, "apply", "-f", manifest)
	out, err := cli(t, "wait", "badname", "--timeout", "60s")
	if err == nil || !strings.Contains(err.Error(), "Failed") {
		t.Fatalf("wait: %v, want the campaign Failed\n%s", err, out)
	}
	desc := mustCLI(t, "describe", "campaign", "badname")
	if !strings.Contains(desc, `refusing result file name "a\\b.sca"`) || !strings.Contains(desc, "after 2 attempt(s)") {
		t.Fatalf("describe does not show the refusal after 2 attempts:\n%s", desc)
	}
	logs := mustCLI(t, "logs", "badname", "--run", "0")
	if !strings.Contains(logs, `refusing result file name`) {
		t.Fatalf("logs:\n%s", logs)
	}
	data, _ := os.ReadFile(count)
	if n := strings.Count(string(data), "x"); n != 2 {
		t.Fatalf("the simulation ran %d times, want 2 (1 + retries: 1)", n)
	}
	runnerLog, _ := os.ReadFile(ps[1].log)
	if !strings.Contains(string(runnerLog), "WARN") || !strings.Contains(string(runnerLog), "refusing result file name") {
		t.Fatalf("the runner's log does not warn of the refusal:\n%s", tail(string(runnerLog), 3000))
	}
}

// TestRunnerThatCannotFetchArtifactsDegradesTheCampaign: a runner whose
// artifact cache is unusable fails every delivery, which the queue
// retries. The campaign said Running with no message, nothing was logged
// at -v, and the reason sat only in the task's Redis hash: now the
// campaign's Degraded condition says why (describe and the dashboard show
// it), and both the runner and the controller log it at warning level.
func TestRunnerThatCannotFetchArtifactsDegradesTheCampaign(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	dir := t.TempDir()
	manifest := scriptCampaign(t, dir, "nocache", `echo x > "$RESULTS/r.sca"`, "0", 1)
	startProc(t, nil, "worker", "--role", "build", "--redis", rs.URL(), "--mongo", mongoURI, "--cache", t.TempDir(), "--name", "builder")
	// The artifact cache under --cache is a file (the work directory is
	// fine: a worker that cannot claim one does not start).
	cache := t.TempDir()
	os.WriteFile(filepath.Join(cache, "artifacts"), nil, 0o644)
	runner := startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI, "--cache", cache,
		"--name", "runner-0", "-v")
	mustCLI(t, "apply", "-f", manifest)
	var desc string
	waitUntil(t, "the campaign to say why its run does not progress", 30*time.Second, func() bool {
		desc = mustCLI(t, "describe", "campaign", "nocache")
		return strings.Contains(desc, "Degraded") && strings.Contains(desc, "not a directory")
	})
	if !strings.Contains(desc, "TaskRetrying") || !strings.Contains(desc, "Running") {
		t.Fatalf("describe:\n%s", desc)
	}
	for what, log := range map[string]string{"runner": runner.log, "controller": p.log} {
		b, _ := os.ReadFile(log)
		warned := false
		for _, line := range strings.Split(string(b), "\n") {
			warned = warned || strings.Contains(line, "WARN") && strings.Contains(line, "not a directory")
		}
		if !warned {
			t.Errorf("the %s's log does not warn of the failure:\n%s", what, tail(string(b), 3000))
		}
	}
}

// TestPrefetchedRunsCountAsQueued: a runner with --slots 1 --prefetch 1
// holds two tasks but runs one simulation; the status counted both as
// Running. A held task is Queued until its simulation starts.
func TestPrefetchedRunsCountAsQueued(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)
	dir := t.TempDir()
	manifest := scriptCampaign(t, dir, "held", `sleep 3; echo x > "$RESULTS/r.sca"`, "0..1", 0)
	startProc(t, nil, "worker", "--role", "build", "--redis", rs.URL(), "--mongo", mongoURI, "--cache", t.TempDir(), "--name", "builder")
	startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI, "--cache", t.TempDir(),
		"--name", "runner-0", "--slots", "1", "--prefetch", "1")
	mustCLI(t, "apply", "-f", manifest)
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	insp := asynq.NewInspectorFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}))
	defer insp.Close()
	held := false
	waitUntil(t, "both runs to succeed", 60*time.Second, func() bool {
		active := 0
		if q, err := insp.GetQueueInfo(schema.QueueRun); err == nil {
			active = q.Active
		}
		c, err := st.Get(ctx, "held")
		if err != nil {
			t.Fatal(err)
		}
		r := c.Status.Runs
		if r.Running > 1 {
			t.Fatalf("status says %d runs running on one slot: %+v", r.Running, r)
		}
		held = held || active == 2 && r.Running == 1 && r.Queued == 1
		return c.Status.Phase == api.PhaseSucceeded
	})
	if !held {
		t.Fatal("never saw the held task counted as Queued while the other ran")
	}
}

// shListsRuns is a line of shell that answers the builder's question (-q
// runs) as a program whose config has runs 0..N does, N the largest run
// number filter names.
func shListsRuns(t *testing.T, filter string) string {
	t.Helper()
	f, err := api.ParseRunFilter(filter)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("case \" $* \" in *\" -q runs \"*) i=0; while [ $i -le %d ]; do echo \"Run $i: \"; i=$((i+1)); done; exit 0;; esac\n", f.Max())
}
