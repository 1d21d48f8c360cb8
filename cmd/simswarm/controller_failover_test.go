package main

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/leader"
	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testdb"
)

func gitCampaign(name, runs string) *api.Campaign {
	c := &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.invalid/model.git", Commit: "0123456789abcdef0123456789abcdef01234567"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAloha", Runs: runs}}}
	api.SetDefaults(c)
	return c
}

// waitReconciled polls until the campaign has a status for its generation.
func waitReconciled(t *testing.T, c *client.Client, name string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		cp, err := c.Get(context.Background(), name)
		if err == nil && cp.Status.ObservedGeneration == cp.Metadata.Generation && cp.Status.Phase != "" {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("campaign %s not reconciled within %v (last: %+v, %v)", name, within, cp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leaderPID(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	v, err := rdb.Get(context.Background(), leader.DefaultKey).Result()
	if err != nil {
		return 0
	}
	// identity is "<host>-<pid>/<random>"
	id, _, _ := strings.Cut(v, "/")
	i := strings.LastIndexByte(id, '-')
	pid, _ := strconv.Atoi(id[i+1:])
	return pid
}

func TestControllerStandbyTakesOverAfterSIGKILL(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	tok := writeToken(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()

	a := startControllerProc(t, rs.URL(), mongoURI, tok)
	deadline := time.Now().Add(10 * time.Second)
	for leaderPID(t, rdb) != a.cmd.Process.Pid {
		if time.Now().After(deadline) {
			t.Fatal("first controller did not take the lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := startControllerProc(t, rs.URL(), mongoURI, tok)
	cb := client.New("http://"+b.addr, testToken)
	// The standby serves the API; the leader reconciles.
	if _, err := cb.Apply(context.Background(), gitCampaign("one", "0..9")); err != nil {
		t.Fatal(err)
	}
	// The standby tells the leader through Redis: no wait for a resync (2s).
	if d := waitReconciled(t, cb, "one", 10*time.Second); d > 1200*time.Millisecond {
		t.Fatalf("change made through the standby reconciled after %v: not notified", d)
	}
	if leaderPID(t, rdb) != a.cmd.Process.Pid {
		t.Fatal("lease moved although the leader is alive")
	}

	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if _, err := cb.Apply(context.Background(), gitCampaign("two", "0..9")); err != nil {
		t.Fatal(err)
	}
	waitReconciled(t, cb, "two", 15*time.Second)
	took := time.Since(killed)
	t.Logf("standby reconciled a new campaign %v after the leader was SIGKILLed (lease 2s)", took)
	if took > 2*time.Second+3*time.Second {
		t.Fatalf("takeover took %v, more than lease + retry + resync slack", took)
	}
	if leaderPID(t, rdb) != b.cmd.Process.Pid {
		t.Fatal("standby does not hold the lease")
	}
}

func TestControllerFlagsFromEnvironment(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	addr := freeport.Addr(t)
	startProc(t, []string{"SIMSWARM_LISTEN=" + addr, "SIMSWARM_REDIS=" + rs.URL(), "SIMSWARM_MONGO=" + mongoURI,
		"SIMSWARM_TOKEN_FILE=" + writeToken(t), "SIMSWARM_TOKEN="}, "controller")
	c := client.New("http://"+addr, testToken)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := c.List(context.Background()); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("controller configured from SIMSWARM_* not serving: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := client.New("http://"+addr, "nope").List(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v", err)
	}
}
