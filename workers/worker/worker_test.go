package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// connectedClients is how many connections the Redis server holds.
func connectedClients(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "connected_clients:"); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no connected_clients in %q", info)
	return 0
}

// TestRunAnnouncesItselfAndLeavesNothingBehind: a runner started by Run
// announces itself under its heartbeat key with a TTL once Ready; when ctx
// ends, Run returns having withdrawn the heartbeat, released its work
// directory and closed every Redis connection it opened (the queue's
// too), so that a process running many workers, as the scale harness
// does, does not leak one connection per stopped worker.
func TestRunAnnouncesItselfAndLeavesNothingBehind(t *testing.T) {
	rs, mongoURI := testdb.StartRedis(t), testdb.StartMongo(t)
	ropt, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	ctx := context.Background()
	before := connectedClients(t, rdb)

	cache := t.TempDir()
	ready := make(chan struct{})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(wctx, Config{Role: RoleRun, Name: "w-1", Redis: ropt, MongoURI: mongoURI, Cache: cache,
			Slots: 3, Prefetch: -1, ShutdownGrace: time.Second, Ready: ready})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run returned before it was ready: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("not ready within a minute")
	}
	var hb heartbeat.Beat
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := rdb.Get(ctx, heartbeat.Key("w-1")).Result()
		if err == nil && json.Unmarshal([]byte(v), &hb) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if hb.Name != "w-1" || hb.Role != "run" || hb.Slots != 3 || hb.Task != "" {
		t.Fatalf("heartbeat %+v, want w-1, run, 3 slots, idle", hb)
	}
	if ttl := rdb.TTL(ctx, heartbeat.Key("w-1")).Val(); ttl <= 0 || ttl > heartbeat.TTL {
		t.Fatalf("heartbeat TTL %s, want (0, %s]", ttl, heartbeat.TTL)
	}
	owners, _ := filepath.Glob(filepath.Join(cache, "runs", "owner-*"))
	if len(owners) != 1 {
		t.Fatalf("work directories %v, want the one the worker claimed", owners)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of its context ending")
	}
	if n := rdb.Exists(ctx, heartbeat.Key("w-1")).Val(); n != 0 {
		t.Fatal("a stopped worker left its heartbeat")
	}
	if _, err := os.Stat(owners[0]); !os.IsNotExist(err) {
		t.Fatalf("a stopped worker kept its work directory %s (%v)", owners[0], err)
	}
	// The server counts a closed connection out as it reads the close.
	deadline = time.Now().Add(5 * time.Second)
	for n := connectedClients(t, rdb); n != before; n = connectedClients(t, rdb) {
		if time.Now().After(deadline) {
			t.Fatalf("%d Redis connections after Run returned, want %d as before it started", n, before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
