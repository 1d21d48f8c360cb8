package dashboard

import (
	"context"
	"sync"
	"time"
)

// Revocations is where logged-out sessions are kept until they would
// have expired. Every controller of a stack must see the same ones (the
// shared store: *store.Store), or a session logged out on one is still
// good on another, and after a restart.
type Revocations interface {
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	SessionRevoked(ctx context.Context, id string) (bool, error)
	PruneSessionRevocations(ctx context.Context, before time.Time) error
}

// memRevocations keep revocations in this process only: for a dashboard
// that no other controller shares sessions with (and tests).
type memRevocations struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (r *memRevocations) RevokeSession(_ context.Context, id string, exp time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]time.Time{}
	}
	r.m[id] = exp
	return nil
}

func (r *memRevocations) SessionRevoked(_ context.Context, id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[id]
	return ok, nil
}

func (r *memRevocations) PruneSessionRevocations(_ context.Context, before time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.m {
		if e.Before(before) {
			delete(r.m, k)
		}
	}
	return nil
}
