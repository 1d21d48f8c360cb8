package worker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

// BenchmarkIdleRedisOpsPerNode measures what one node's idle runners cost
// Redis at 16 slots (a Swarm2k node's CPUs): 16 runners of one slot each
// (a runner replica per CPU, as stacks ran them before) against one
// runner sized by its node's published count of 16, each measured alone
// on a fresh redis-server over the same idle window after the same
// warm-up. Reported: commands/s of each and their ratio.
func BenchmarkIdleRedisOpsPerNode(b *testing.B) {
	const slots = 16
	window := 20 * time.Second
	for range b.N {
		before := idleOps(b, slots, func(i int) Config { return Config{Slots: 1, Name: "replica-" + strconv.Itoa(i)} }, window)
		after := idleOps(b, 1, func(int) Config { return Config{NodeID: "node-1", Name: "node-1"} }, window)
		b.ReportMetric(before, "ops/s-16-replicas")
		b.ReportMetric(after, "ops/s-1-runner")
		b.ReportMetric(before/after, "ratio")
		b.Logf("idle Redis commands/s at %d slots: %d runners of 1 slot %.1f, 1 runner of %d slots %.1f: %.1fx fewer",
			slots, slots, before, slots, after, before/after)
	}
}

// idleOps starts n runners (cfg(i) names and sizes each) against a fresh
// Redis, waits until they take tasks and a little more, and returns the
// commands per second Redis served over window.
func idleOps(b *testing.B, n int, cfg func(i int) Config, window time.Duration) float64 {
	b.Helper()
	rs, mongoURI := testdb.StartRedis(b), testdb.StartMongo(b)
	ropt, err := redis.ParseURL(rs.URL())
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	ctx, stop := context.WithCancel(context.Background())
	rdb.HSet(ctx, schema.RunnerSlotsKey, "node-1", "16")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		c := cfg(i)
		c.Role, c.Redis, c.MongoURI, c.Cache, c.Prefetch, c.ShutdownGrace = RoleRun, ropt, mongoURI, b.TempDir(), -1, time.Second
		ready := make(chan struct{})
		c.Ready = ready
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Run(ctx, c); err != nil {
				errs <- err
			}
		}()
		select {
		case <-ready:
		case err := <-errs:
			b.Fatal(err)
		case <-time.After(time.Minute):
			b.Fatal("a runner was not ready within a minute")
		}
	}
	defer func() { stop(); wg.Wait() }()
	time.Sleep(10 * time.Second) // past start-up: asynq's first heartbeats, the first syncs
	first := processed(b, rdb)
	time.Sleep(window)
	last := processed(b, rdb)
	// The second INFO counts itself.
	return float64(last-first-1) / window.Seconds()
}

// processed is Redis's total_commands_processed.
func processed(b *testing.B, rdb *redis.Client) int64 {
	info, err := rdb.Info(context.Background(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal(fmt.Sprintf("no total_commands_processed in %q", info))
	return 0
}
