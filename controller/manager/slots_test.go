package manager

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/test/testdb"
)

// The dispatch is sized from the slots the stack published for its nodes
// when their runners have not all reported yet, and from the runners'
// own reports where no stack publishes (workers started by hand).
func TestClusterSlotsCountNodesWhoseRunnersAreStillStarting(t *testing.T) {
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx := context.Background()
	pub := stack.RedisHosts{Client: rdb}
	oneRunnerUp := func(context.Context) (int, error) { return 2, nil }
	slots := clusterSlots(oneRunnerUp, publishedSlots(rdb))

	if n, err := slots(ctx); err != nil || n != 2 {
		t.Fatalf("no stack: %d slots (%v), want the runner's 2", n, err)
	}
	if err := pub.PublishRunnerSlots(ctx, map[string]int{"h1": 2, "h2": 2, "h3": 2, "drained": 0}); err != nil {
		t.Fatal(err)
	}
	if n, err := slots(ctx); err != nil || n != 6 {
		t.Fatalf("three nodes of 2 published, one runner up: %d slots (%v), want 6", n, err)
	}
	// A value the controller would never publish (Redis is writable by
	// anything on its network) counts nothing.
	for _, bad := range []string{"99999999999", "-3", "x"} {
		rdb.HSet(ctx, schema.RunnerSlotsKey, "bogus", bad)
		if n, err := slots(ctx); err != nil || n != 6 {
			t.Fatalf("with a node's count %q: %d slots (%v), want 6", bad, n, err)
		}
	}
	manyUp := func(context.Context) (int, error) { return 8, nil }
	if n, err := clusterSlots(manyUp, publishedSlots(rdb))(ctx); err != nil || n != 8 {
		t.Fatalf("runners reporting more than published: %d slots (%v), want 8", n, err)
	}
}
