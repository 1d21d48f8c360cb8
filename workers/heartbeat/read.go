package heartbeat

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"
)

// readBatch is how many keys one SCAN step and one MGET carry.
const readBatch = 500

// Read returns the heartbeats of all live workers, by name. It costs one
// SCAN pass and one MGET (plus one pipelined TTL round trip) per readBatch
// keys, so hundreds of workers are read in a few round trips. Entries that
// are not valid JSON are skipped.
func Read(ctx context.Context, rdb redis.UniversalClient) ([]Beat, error) {
	var out []Beat
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, KeyPrefix+"*", readBatch).Result()
		if err != nil {
			return nil, fmt.Errorf("scan worker heartbeats: %w", err)
		}
		if len(keys) > 0 {
			beats, err := readKeys(ctx, rdb, keys)
			if err != nil {
				return nil, err
			}
			out = append(out, beats...)
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readKeys(ctx context.Context, rdb redis.UniversalClient, keys []string) ([]Beat, error) {
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
	out := make([]Beat, 0, len(keys))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // expired between SCAN and MGET
		}
		b, ok := parse(keys[i], s)
		if !ok {
			continue
		}
		if d, err := ttls[i].Result(); err == nil && d > 0 {
			b.TTL = d
		}
		out = append(out, b)
	}
	return out, nil
}

// parse reads the entry under key; an entry that names no worker is the
// key's.
func parse(key, entry string) (Beat, bool) {
	var b Beat
	if json.Unmarshal([]byte(entry), &b) != nil {
		return b, false
	}
	if b.Name == "" {
		b.Name = strings.TrimPrefix(key, KeyPrefix)
	}
	return b, true
}

// RunSlots sums the slots of the live runners (Beat.ActiveSlots: a runner
// announcing none counts one, a waiting one none): the simulations the
// cluster runs at once.
func RunSlots(beats []Beat) int {
	n := 0
	for _, b := range beats {
		if b.Role == RoleRun {
			n += b.ActiveSlots()
		}
	}
	return n
}

// Reader reads the heartbeats from Redis; it is the workers source of the
// dashboard and of the metrics, and the controller's count of run slots.
type Reader struct{ Client redis.UniversalClient }

// Heartbeats returns the live workers' heartbeats (Read).
func (r Reader) Heartbeats(ctx context.Context) ([]Beat, error) { return Read(ctx, r.Client) }

// RunSlots returns the live runners' slots (RunSlots).
func (r Reader) RunSlots(ctx context.Context) (int, error) {
	beats, err := Read(ctx, r.Client)
	if err != nil {
		return 0, err
	}
	return RunSlots(beats), nil
}
