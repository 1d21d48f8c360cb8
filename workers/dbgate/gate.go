package dbgate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultLimit is the writers a cluster lets in at once: far below the 50
// update commands that exhaust FerretDB 1.24's connection pool, and as
// many as a single SQLite writer can use (each command holds the one
// write lock in turn).
const DefaultLimit = 8

// DefaultLease bounds one hold: longer than a group commit may take.
const DefaultLease = 90 * time.Second

// Gate is a counting semaphore in Redis: a sorted set of holders, each
// scored with the Redis time its lease ends.
type Gate struct {
	Client redis.UniversalClient
	Key    string
	// Limit is the holders at once; 0 means DefaultLimit.
	Limit int
	// Lease bounds one hold; 0 means DefaultLease.
	Lease time.Duration
	// FailWait is how long Redis may keep failing before Acquire lets
	// the caller through; 0 means DefaultFailWait.
	FailWait time.Duration
}

// maxPoll is the longest pause between two tries of a full gate.
const maxPoll = 50 * time.Millisecond

// DefaultFailWait rides out a Redis restart or a stall under load (the
// client's read timeout is 3 s), and is still short beside a commit.
const DefaultFailWait = 10 * time.Second

// acquire drops expired leases and, if fewer than the limit remain, adds
// the caller's; 1 if it did.
var acquire = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
`)

// Acquire waits for a place and returns its release. An error with a nil
// release means ctx ended first; an error with a release means Redis
// kept failing for FailWait and the caller may go on (see the package's
// guarantees).
func (g *Gate) Acquire(ctx context.Context) (func(), error) {
	limit, lease, failWait := g.Limit, g.Lease, g.FailWait
	if limit <= 0 {
		limit = DefaultLimit
	}
	if lease <= 0 {
		lease = DefaultLease
	}
	if failWait <= 0 {
		failWait = DefaultFailWait
	}
	token := strconv.FormatUint(rand.Uint64(), 36)
	wait := time.Millisecond
	var failingSince time.Time
	for {
		ok, err := acquire.Run(ctx, g.Client, []string{g.Key}, limit, lease.Milliseconds(), token).Int()
		switch {
		case err == nil && ok == 1:
			return func() {
				// Its own deadline: the caller's context may be what ended.
				rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				g.Client.ZRem(rctx, g.Key, token)
			}, nil
		case err == nil:
			failingSince = time.Time{}
		case ctx.Err() != nil:
			return nil, fmt.Errorf("wait for a database writer's place: %w", ctx.Err())
		case failingSince.IsZero():
			failingSince = time.Now()
		case time.Since(failingSince) >= failWait:
			return func() {}, fmt.Errorf("database writers' gate %s: %w", g.Key, err)
		}
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait for a database writer's place: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, maxPoll)
	}
}
