package resultbackfill

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/store"
)

// Store is what the backfiller needs of the controller's store.
type Store interface {
	List(ctx context.Context) ([]*api.Campaign, error)
	BackfillResultIndex(ctx context.Context, campaign, uid string, o store.BackfillOptions) (store.Backfilled, error)
}

// Backfiller is the Runnable. Zero durations and limits take the defaults.
type Backfiller struct {
	Store Store
	// Every is the time between passes (default 1 min).
	Every time.Duration
	// Limit bounds the runs one pass indexes (default 512).
	Limit int
	// Grace leaves runs stored less than Grace ago to their runner
	// (default 2 min).
	Grace time.Duration
	// Recheck is how often a campaign with runs within Grace is looked at
	// again (default 10 min).
	Recheck time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *zap.Logger

	seen map[string]seen
}

// seen is what the last look at a campaign object found.
type seen struct {
	succeeded int64     // its Succeeded count when found complete, or -1
	next      time.Time // not looked at again before, unless complete
}

// Start runs a pass every Every until ctx ends.
func (b *Backfiller) Start(ctx context.Context) error {
	every := b.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := b.Pass(ctx); err != nil && ctx.Err() == nil {
			b.log().Warn("result index backfill pass failed", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (b *Backfiller) log() *zap.Logger {
	if b.Log == nil {
		return zap.NewNop()
	}
	return b.Log
}

// Pass looks at every campaign once, indexing at most Limit runs, and
// reports how many it indexed.
func (b *Backfiller) Pass(ctx context.Context) (int, error) {
	limit, grace, recheck, now := b.Limit, b.Grace, b.Recheck, b.Now
	if limit <= 0 {
		limit = 512
	}
	if grace <= 0 {
		grace = 2 * time.Minute
	}
	if recheck <= 0 {
		recheck = 10 * time.Minute
	}
	if now == nil {
		now = time.Now
	}
	if b.seen == nil {
		b.seen = map[string]seen{}
	}
	cs, err := b.Store.List(ctx)
	if err != nil {
		return 0, err
	}
	live := map[string]bool{}
	indexed := 0
	var errs []error
	for _, c := range cs {
		uid, succeeded := c.Metadata.UID, c.Status.Runs.Succeeded
		live[uid] = true
		last, ok := b.seen[uid]
		if succeeded == 0 || (ok && (last.succeeded == succeeded || now().Before(last.next))) {
			continue
		}
		if indexed >= limit {
			break
		}
		got, err := b.Store.BackfillResultIndex(ctx, c.Metadata.Name, uid, store.BackfillOptions{Limit: limit - indexed, Grace: grace, Now: now})
		indexed += got.Indexed
		if got.Indexed > 0 || got.Failed > 0 {
			b.log().Info("result index backfilled", zap.String("campaign", c.Metadata.Name), zap.Int("runs", got.Indexed),
				zap.Int("failed", got.Failed), zap.Int("left", got.Remaining), zap.Errors("errors", got.Errs))
		}
		switch {
		case err != nil:
			errs = append(errs, err)
		case got.Remaining == 0 && got.Failed == 0 && got.Young == 0:
			b.seen[uid] = seen{succeeded: succeeded}
		case got.Remaining == 0 && got.Failed == 0:
			b.seen[uid] = seen{succeeded: -1, next: now().Add(recheck)}
		}
	}
	for uid := range b.seen {
		if !live[uid] {
			delete(b.seen, uid)
		}
	}
	return indexed, errors.Join(errs...)
}
