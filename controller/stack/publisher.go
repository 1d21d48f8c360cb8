package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api/schema"
)

// RedisHosts publishes the distcc host list as one space-separated string
// (the DISTCC_HOSTS format) under schema.DistccHostsKey. The builder
// reads the key before each build.
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
