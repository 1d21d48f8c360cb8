package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// Default keys in Redis.
const (
	DefaultKey      = "simswarm:leader"
	DefaultEpochKey = "simswarm:leader:epoch"
)

// Callbacks are called as leadership changes.
type Callbacks struct {
	// OnStartedLeading runs in its own goroutine while this candidate leads;
	// ctx is cancelled when leadership is lost or Run ends. Run waits for it
	// to return before trying to lead again.
	OnStartedLeading func(ctx context.Context, epoch int64)
	// OnStoppedLeading is called after OnStartedLeading returned.
	OnStoppedLeading func()
}

// Elector campaigns for the lease. Fields other than Client and Callbacks
// are optional.
type Elector struct {
	Client    redis.UniversalClient
	Identity  string
	Callbacks Callbacks
	// EpochFloor returns the highest epoch ever used (e.g. from the store);
	// a new epoch is above it even if Redis lost its counter.
	EpochFloor func(ctx context.Context) (int64, error)

	Key           string        // default DefaultKey
	EpochKey      string        // default DefaultEpochKey
	LeaseDuration time.Duration // default 15s
	RenewDeadline time.Duration // default 2/3 of LeaseDuration
	RetryPeriod   time.Duration // default LeaseDuration/5
	Logger        *zap.Logger

	mu      sync.Mutex
	epoch   int64
	leading bool
}

var acquireScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local e = redis.call('INCR', KEYS[2])
  local floor = tonumber(ARGV[3])
  if e <= floor then
    e = floor + 1
    redis.call('SET', KEYS[2], e)
  end
  return e
end
return 0
`)

var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (e *Elector) defaults() {
	if e.Key == "" {
		e.Key = DefaultKey
	}
	if e.EpochKey == "" {
		e.EpochKey = DefaultEpochKey
	}
	if e.LeaseDuration <= 0 {
		e.LeaseDuration = 15 * time.Second
	}
	if e.RenewDeadline <= 0 || e.RenewDeadline >= e.LeaseDuration {
		e.RenewDeadline = e.LeaseDuration * 2 / 3
	}
	if e.RetryPeriod <= 0 {
		e.RetryPeriod = e.LeaseDuration / 5
	}
	if e.Logger == nil {
		e.Logger = zap.NewNop()
	}
}

// IsLeader reports whether this candidate holds the lease, and its epoch.
func (e *Elector) IsLeader() (bool, int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading, e.epoch
}

// Run campaigns until ctx ends, leading whenever it holds the lease.
func (e *Elector) Run(ctx context.Context) error {
	if e.Client == nil {
		return errors.New("leader: no redis client")
	}
	e.defaults()
	for {
		epoch, token, err := e.tryAcquire(ctx)
		if err != nil && ctx.Err() == nil {
			e.Logger.Warn("leader lease acquisition failed", zap.Error(err))
		}
		if epoch > 0 {
			e.lead(ctx, epoch, token)
		}
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(e.RetryPeriod):
		}
	}
}

func (e *Elector) tryAcquire(ctx context.Context) (int64, string, error) {
	floor := int64(0)
	if e.EpochFloor != nil {
		f, err := e.EpochFloor(ctx)
		if err != nil {
			return 0, "", fmt.Errorf("epoch floor: %w", err)
		}
		floor = f
	}
	token := e.Identity + "/" + randomHex()
	epoch, err := acquireScript.Run(ctx, e.Client, []string{e.Key, e.EpochKey},
		token, e.LeaseDuration.Milliseconds(), floor).Int64()
	if err != nil {
		return 0, "", fmt.Errorf("acquire %s: %w", e.Key, err)
	}
	return epoch, token, nil
}

// lead holds the lease until it cannot be renewed or ctx ends.
func (e *Elector) lead(ctx context.Context, epoch int64, token string) {
	e.Logger.Info("leader lease acquired", zap.String("identity", e.Identity), zap.Int64("epoch", epoch))
	lctx, cancel := context.WithCancel(ctx)
	e.mu.Lock()
	e.leading, e.epoch = true, epoch
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if e.Callbacks.OnStartedLeading != nil {
			e.Callbacks.OnStartedLeading(lctx, epoch)
		}
	}()

	lastRenew := time.Now()
	interval := e.RetryPeriod
	ticker := time.NewTicker(interval)
renew:
	for {
		select {
		case <-lctx.Done():
			break renew
		case <-done:
			break renew
		case <-ticker.C:
		}
		rctx, rcancel := context.WithTimeout(lctx, e.RenewDeadline-time.Since(lastRenew))
		ok, err := renewScript.Run(rctx, e.Client, []string{e.Key}, token, e.LeaseDuration.Milliseconds()).Int64()
		rcancel()
		switch {
		case err == nil && ok == 1:
			lastRenew = time.Now()
		case err == nil:
			e.Logger.Warn("leader lease lost to another candidate", zap.Int64("epoch", epoch))
			break renew
		case time.Since(lastRenew) >= e.RenewDeadline:
			e.Logger.Warn("leader lease not renewed within deadline", zap.Int64("epoch", epoch), zap.Error(err))
			break renew
		}
	}
	ticker.Stop()
	cancel()
	<-done
	e.mu.Lock()
	e.leading = false
	e.mu.Unlock()
	// Hand the lease over at once; if it already moved on, this is a no-op.
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = releaseScript.Run(rctx, e.Client, []string{e.Key}, token).Err()
	rcancel()
	if e.Callbacks.OnStoppedLeading != nil {
		e.Callbacks.OnStoppedLeading()
	}
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
