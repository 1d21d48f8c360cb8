package campaign

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/runlist"
)

// reuseState is what a campaign's passes keep for reuse by content: the
// identities of its run list (read once per list) and the runs it created
// as reused, which the dispatch frontier steps over (a hint: a new leader
// does not have it, and a task sent for a reused run finds its completion
// and runs nothing).
type reuseState struct {
	listID string
	ids    *runlist.Identities
	reused bitset
}

type bitset []uint64

func (b bitset) has(n int) bool { return n >= 0 && n/64 < len(b) && b[n/64]&(1<<(n%64)) != 0 }

func (b *bitset) set(n int) {
	for n/64 >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[n/64] |= 1 << (n % 64)
}

// identities are the identities of the campaign's run list, nil when the
// build has none (not built yet, a program without -q runconfig or -q rundetails, a list
// made by an older builder).
func (r *Reconciler) identities(ctx context.Context, s *campaignState, c *api.Campaign, o Observed) (*runlist.Identities, error) {
	if o.Build == nil || o.Build.State != schema.BuildSucceeded {
		return nil, nil
	}
	id := runlist.ID(o.Build.Key, runlist.QueryOf(c.Spec.Simulation))
	if s.reuse.listID == id {
		return s.reuse.ids, nil
	}
	rec, err := runlist.Get(ctx, r.Store.DB, id)
	if err != nil || rec == nil || rec.State != runlist.StateSucceeded {
		return nil, err
	}
	ids, err := runlist.ReadIdentities(ctx, r.Store.DB, rec)
	if err != nil {
		return nil, err
	}
	s.reuse.listID, s.reuse.ids = id, ids
	return ids, nil
}

// createRuns creates the records of runs (a chunk of the expanded list),
// each with its identity when the run list has them; with spec.reuse (the
// default), a run whose identity a stored, succeeded run of another
// campaign object has is recorded as succeeded with copies of that run's
// results (store.StoreReused) instead of Pending. It returns how many
// records it created and how many of those are reused.
func (r *Reconciler) createRuns(ctx context.Context, s *campaignState, c *api.Campaign, o Observed, runs []int) (int, int, error) {
	name, uid := c.Metadata.Name, c.Metadata.UID
	x, err := r.identities(ctx, s, c, o)
	if err != nil {
		return 0, 0, err
	}
	if x == nil {
		n, err := r.Store.CreateRuns(ctx, name, uid, runs)
		return n, 0, err
	}
	ids := make([]string, len(runs))
	var known []string
	for i, n := range runs {
		if id, ok := x.Of(n); ok {
			ids[i] = id
			known = append(known, id)
		}
	}
	var donors map[string]schema.RunRecord
	if c.Spec.ReuseEnabled() && len(known) > 0 {
		if donors, err = r.Store.ReusableRuns(ctx, uid, known); err != nil {
			return 0, 0, err
		}
	}
	var freshRuns []int
	var freshIDs []string
	reused := 0
	for i, n := range runs {
		from, ok := donors[ids[i]]
		if ok && ids[i] != "" {
			_, err := r.Store.StoreReused(ctx, name, uid, n, ids[i], from)
			if err == nil {
				reused++
				s.reuse.reused.set(n)
				continue
			}
			if !errors.Is(err, store.ErrDonorGone) {
				return reused, reused, fmt.Errorf("reuse %s/%d: %w", from.Campaign, from.Run, err)
			}
			r.log().Info("a run to reuse lost its results; running it", zap.String("campaign", name), zap.Int("run", n), zap.Error(err))
		}
		freshRuns = append(freshRuns, n)
		freshIDs = append(freshIDs, ids[i])
	}
	if reused > 0 {
		r.log().Info("runs reused", zap.String("campaign", name), zap.Int("reused", reused), zap.Int("of", len(runs)))
	}
	n, err := r.Store.CreateRunsIdentified(ctx, name, uid, freshRuns, freshIDs)
	return n + reused, reused, err
}
