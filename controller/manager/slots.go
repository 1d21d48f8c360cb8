package manager

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api/schema"
)

// clusterSlots is how many runs the cluster takes at once: the slots the
// runners' heartbeats report, or, when more, the slots the stack published
// for its nodes. Runners that are still starting (a fresh stack, a node
// that just joined) have slots published that no heartbeat reports yet;
// sized from the first runner's slots alone, a campaign's first wave went
// out in a few large tasks that the first runner up took all of, running
// and prefetched (TestMultihostSwarm: 30 runs, all on one of three hosts).
func clusterSlots(beating, published func(context.Context) (int, error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		n, err := beating(ctx)
		if err != nil {
			return 0, err
		}
		p, err := published(ctx)
		if err != nil {
			return 0, err
		}
		return max(n, p), nil
	}
}

// publishedSlots sums the slot counts the stack published for its nodes
// (schema.RunnerSlotsKey); a count that is not a number counts nothing.
func publishedSlots(rdb redis.Cmdable) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		vals, err := rdb.HVals(ctx, schema.RunnerSlotsKey).Result()
		if err != nil {
			return 0, fmt.Errorf("read the runner slots published for the nodes: %w", err)
		}
		n := 0
		for _, v := range vals {
			if k, err := schema.ParseNodeSlots(v); err == nil {
				n += k
			}
		}
		return n, nil
	}
}
