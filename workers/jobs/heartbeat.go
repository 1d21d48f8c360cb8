package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// WorkerKeyPrefix prefixes every worker heartbeat key (WorkerKey).
const WorkerKeyPrefix = "simswarm:workers:"

// Heartbeat is what a worker publishes under WorkerKey(Name) every few
// seconds, with a TTL, so that a dead worker's entry expires by itself.
type Heartbeat struct {
	Name  string `json:"name"`
	Role  string `json:"role"` // "run" or "build"
	Slots int    `json:"slots"`
	// Task is a one-line summary of what the worker does ("" = idle);
	// Tasks lists each busy slot's task ("aloha run 7").
	Task  string   `json:"task"`
	Tasks []string `json:"tasks"`
	// Since is when the worker last took a task (zero: never).
	Since time.Time `json:"since"`
	// TTL is how long the entry lives without a new beat (read from Redis,
	// not published).
	TTL time.Duration `json:"-"`
}

// heartbeatBatch is how many keys one SCAN step and one MGET carry.
const heartbeatBatch = 500

// ReadHeartbeats returns the heartbeats of all live workers, by name. It
// costs one SCAN pass and one MGET (plus one pipelined TTL round trip) per
// heartbeatBatch keys, so hundreds of workers are read in a few round trips.
// Entries that are not valid JSON are skipped.
func ReadHeartbeats(ctx context.Context, rdb redis.UniversalClient) ([]Heartbeat, error) {
	var out []Heartbeat
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, WorkerKeyPrefix+"*", heartbeatBatch).Result()
		if err != nil {
			return nil, fmt.Errorf("scan worker heartbeats: %w", err)
		}
		if len(keys) > 0 {
			hbs, err := readHeartbeatKeys(ctx, rdb, keys)
			if err != nil {
				return nil, err
			}
			out = append(out, hbs...)
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readHeartbeatKeys(ctx context.Context, rdb redis.UniversalClient, keys []string) ([]Heartbeat, error) {
	vals, err := rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read worker heartbeats: %w", err)
	}
	pipe := rdb.Pipeline()
	ttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		ttls[i] = pipe.PTTL(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read worker heartbeat TTLs: %w", err)
	}
	out := make([]Heartbeat, 0, len(keys))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // expired between SCAN and MGET
		}
		var hb Heartbeat
		if json.Unmarshal([]byte(s), &hb) != nil {
			continue
		}
		if hb.Name == "" {
			hb.Name = strings.TrimPrefix(keys[i], WorkerKeyPrefix)
		}
		if d, err := ttls[i].Result(); err == nil && d > 0 {
			hb.TTL = d
		}
		out = append(out, hb)
	}
	return out, nil
}
