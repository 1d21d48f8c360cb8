package stack

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api/schema"
)

// RedisHosts publishes the distcc host list as one space-separated string
// (the DISTCC_HOSTS format) under schema.DistccHostsKey, which the builder
// reads before each build, and the runner slots of the nodes as the hash
// schema.RunnerSlotsKey, which each node's runner reads. It is both the
// HostPublisher and the SlotPublisher of the controller.
type RedisHosts struct {
	Client redis.Cmdable
}

// PublishDistccHosts stores hosts, replacing the previous list.
func (p RedisHosts) PublishDistccHosts(ctx context.Context, hosts []string) error {
	if err := p.Client.Set(ctx, schema.DistccHostsKey, strings.Join(hosts, " "), 0).Err(); err != nil {
		return fmt.Errorf("publish distcc hosts to redis: %w", err)
	}
	return nil
}

// PublishRunnerSlots replaces the hash of node slot counts with slots in
// one transaction (MULTI): a runner never reads it half written, and a
// node that left has no entry any more.
func (p RedisHosts) PublishRunnerSlots(ctx context.Context, slots map[string]int) error {
	fields := make(map[string]any, len(slots))
	for id, n := range slots {
		fields[id] = strconv.Itoa(n)
	}
	_, err := p.Client.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.Del(ctx, schema.RunnerSlotsKey)
		if len(fields) > 0 {
			tx.HSet(ctx, schema.RunnerSlotsKey, fields)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish runner slots to redis: %w", err)
	}
	return nil
}
