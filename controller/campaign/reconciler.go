package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// ErrInvalid marks an error as the spec's fault: terminal, not retried.
var ErrInvalid = errors.New("invalid campaign")

// Expander lists the run numbers a campaign selects, ascending. Errors
// wrapping ErrInvalid are terminal. It may return (nil, nil, false) when
// the runs can only be known later (after the build).
type Expander interface {
	Expand(ctx context.Context, c *api.Campaign, build *schema.BuildRecord) (runs []int, known bool, err error)
}

// Reconciler reconciles one campaign per call.
type Reconciler struct {
	Store    *store.Store
	Tasks    TaskQueue
	Expander Expander
	Shares   *Shares
	// Epoch is the leader epoch that fences status writes.
	Epoch  int64
	Logger *zap.Logger
	Now    func() time.Time
	// DeleteBatch is how many run records one statement of a delete
	// removes (default store.DeleteBatch); DeletePassBudget how long one
	// pass of a delete goes on before it writes its progress and yields
	// (default 2s; at least one batch).
	DeleteBatch      int
	DeletePassBudget time.Duration

	mu     sync.Mutex
	states map[string]*campaignState // by name
}

// Reconcile brings campaign name one step closer to its spec, and returns
// when to look again (0 = no need). A pass reads top to bottom: get the
// object; clean up after a deleted one, or adopt what the queue and older
// objects of the name left; observe (reads only); compute what to do
// (Compute, pure); apply it. Its status is written once, on the way out.
func (r *Reconciler) Reconcile(ctx context.Context, name string) (after time.Duration, err error) {
	if uid, ok := strings.CutPrefix(name, PruneKeyPrefix); ok {
		return r.prune(ctx, uid)
	}
	c, err := r.Store.Get(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return r.cleanup(ctx, name)
	case err != nil:
		return 0, err
	case c.Metadata.DeletionTimestamp != nil:
		return r.finalize(ctx, c)
	}
	// From here on, every return writes the status once: what Compute
	// wanted, or what the campaign had, with the error that ended the pass.
	var want *api.CampaignStatus
	defer func() { err = r.writeStatus(ctx, c, want, err) }()

	s := r.stateFor(name, c.Metadata.UID, c.Metadata.Generation)
	if left, err := r.adopt(ctx, s, c); err != nil {
		return 0, err
	} else if left {
		return deleteAgain, nil
	}
	o, live, err := r.observe(ctx, s, c)
	if err != nil {
		return 0, err
	}
	d := Compute(o)
	want = &d.Status
	if err := r.apply(ctx, s, c, o, d, live); err != nil {
		return 0, err
	}
	return d.Requeue, nil
}

// adopt takes over what others left before the campaign is observed: the
// records and tasks of an earlier object of the name (on the first look
// at this one; it reports whether records are left for another pass), and
// the tasks the queue gave up on, recorded as the failures they are (so
// that the counts observed next include them).
func (r *Reconciler) adopt(ctx context.Context, s *campaignState, c *api.Campaign) (left bool, err error) {
	name, uid := c.Metadata.Name, c.Metadata.UID
	if c.Status.ObservedGeneration == 0 {
		// A delete finishes before the name can be used again; this is
		// for older versions' leftovers.
		if _, err := r.tasks().Unqueue(ctx, name, uid, true); err != nil {
			return false, err
		}
		if left, err := r.removeOrphans(ctx, store.RunSelector{Campaign: name, NotUID: uid}); err != nil || left {
			return left, err
		}
	}
	b, err := r.Store.GetBuild(ctx, buildKey(c.Spec))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case b.State == schema.BuildSucceeded:
		buried, err := r.buryDeadRuns(ctx, name, uid)
		if buried > 0 {
			s.counts = countEntry{} // what they became shows at once
		}
		return false, err
	case b.State != schema.BuildFailed:
		return false, r.failDeadBuild(ctx, name, b)
	}
	return false, nil
}

// cleanup removes what a campaign gone without finalizing left (deleted
// by an older version): queued tasks and, a bounded pass at a time, run
// records. Their results are kept as result sets.
func (r *Reconciler) cleanup(ctx context.Context, name string) (time.Duration, error) {
	r.forget(name)
	if _, err := r.tasks().Unqueue(ctx, name, "", false); err != nil {
		return 0, fmt.Errorf("unqueue deleted %s: %w", name, err)
	}
	left, err := r.removeOrphans(ctx, store.RunSelector{Campaign: name})
	if err != nil || !left {
		return 0, err
	}
	return deleteAgain, nil
}

func buildKey(spec api.CampaignSpec) string {
	return schema.BuildKey(sourceDigest(spec.Source), spec.Build)
}

func sourceDigest(s api.SourceSpec) string {
	if s.Git != nil {
		return "git:" + s.Git.URL + "@" + s.Git.Commit
	}
	return "archive:" + s.Archive
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// tasks is the queue, its errors marked as the queue's.
func (r *Reconciler) tasks() TaskQueue { return reasonedQueue{r.Tasks} }

func (r *Reconciler) log() *zap.Logger {
	if r.Logger == nil {
		return zap.NewNop()
	}
	return r.Logger
}
