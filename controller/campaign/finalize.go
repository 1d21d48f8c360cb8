package campaign

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// ReasonDeleting is the condition reason of a campaign being deleted.
const ReasonDeleting = "Deleting"

// PruneKeyPrefix marks a workqueue key that asks for the result set of
// the uid after it to be pruned (campaign names cannot hold a colon).
const PruneKeyPrefix = "prune:"

// PruneKey is the workqueue key of pruning the result set of uid.
func PruneKey(uid string) string { return PruneKeyPrefix + uid }

// Deleting in passes: each pass removes batches of deleteBatch records
// (one statement each) until deletePassBudget has passed, writes the
// progress to the status and asks to be called again at once. A pass is
// thus bounded whatever the campaign's size, the leader stays responsive
// to other campaigns, and a controller that dies part way leaves only
// what is not yet removed: the next leader continues from the store.
const (
	defaultDeleteBudget = 2 * time.Second
	deleteAgain         = time.Millisecond
	pruneBatch          = 200
)

func (r *Reconciler) deleteBatch() int {
	if r.DeleteBatch > 0 {
		return r.DeleteBatch
	}
	return store.DeleteBatch
}

func (r *Reconciler) deleteBudget() time.Duration {
	if r.DeletePassBudget > 0 {
		return r.DeletePassBudget
	}
	return defaultDeleteBudget
}

// finalize does one bounded pass of deleting campaign c (marked deleted):
// unqueue its tasks, remove its run records (keeping the result lists as
// completions), then either record its results as a kept result set or,
// with purge, free them; finally remove the object. Like any pass it
// writes its status once, on the way out (writeStatus): the progress it
// made, and the error that ended it, if one did; nothing once the object
// is gone.
func (r *Reconciler) finalize(ctx context.Context, c *api.Campaign) (after time.Duration, err error) {
	name, uid := c.Metadata.Name, c.Metadata.UID
	purge := c.Status.Deletion != nil && c.Status.Deletion.Purge
	first := c.Status.Phase != api.PhaseDeleting
	removed := int64(0)
	if c.Status.Deletion != nil {
		removed = c.Status.Deletion.RunsRemoved
	}
	// want stays nil until the tasks are unqueued and the results kept:
	// phase Deleting is what tells later passes that this is done.
	var want *api.CampaignStatus
	gone := false
	defer func() {
		if !gone {
			err = r.writeStatus(ctx, c, want, err)
		}
	}()
	if first {
		r.forget(name)
		if _, err := r.tasks().Unqueue(ctx, name, uid, false); err != nil {
			return 0, fmt.Errorf("unqueue deleted %s: %w", name, err)
		}
		if !purge {
			if err := r.Store.KeepResults(ctx, name, uid, *c.Metadata.DeletionTimestamp); err != nil {
				return 0, err
			}
		}
	}
	start := time.Now()
	runsLeft := true
	for {
		d, err := r.Store.DeleteRunBatch(ctx, store.RunSelector{Campaign: name, UID: uid}, r.deleteBatch())
		removed += int64(d.N)
		want = r.deleting(c, removed, purge, "")
		if err != nil {
			return 0, err
		}
		if d.Found == 0 {
			runsLeft = false
			break
		}
		if time.Since(start) >= r.deleteBudget() {
			break
		}
	}
	if runsLeft {
		return deleteAgain, nil
	}
	if purge {
		want = r.deleting(c, removed, purge, "freeing its result files")
		for {
			done, err := r.Store.PruneBatch(ctx, uid, pruneBatch)
			if err != nil {
				return 0, err
			}
			if done {
				gone, err = r.finish(ctx, name, uid, removed, purge)
				return 0, err
			}
			if time.Since(start) >= r.deleteBudget() {
				break
			}
		}
		return deleteAgain, nil
	}
	if err := r.Store.TallyResults(ctx, uid); err != nil {
		return 0, err
	}
	gone, err = r.finish(ctx, name, uid, removed, purge)
	return 0, err
}

// finish removes the object of a campaign whose delete is done, and
// reports whether it is gone.
func (r *Reconciler) finish(ctx context.Context, name, uid string, removed int64, purge bool) (bool, error) {
	if err := r.Store.FinishDelete(ctx, name, uid); err != nil {
		return false, err
	}
	r.forget(name)
	kept := "results kept under uid " + uid
	if purge {
		kept = "results freed"
	}
	r.log().Info("campaign deleted", zap.String("campaign", name), zap.String("uid", uid),
		zap.Int64("runRecords", removed), zap.String("results", kept))
	return true, nil
}

// deleting is c's status with the progress of its delete.
func (r *Reconciler) deleting(c *api.Campaign, removed int64, purge bool, doing string) *api.CampaignStatus {
	st := c.Status
	st.Phase = api.PhaseDeleting
	st.Deletion = &api.DeletionStatus{Purge: purge, RunsRemoved: removed}
	msg := fmt.Sprintf("deleting: %d run records removed", removed)
	if st.Runs.Total > 0 {
		msg += fmt.Sprintf(" of %d", st.Runs.Total)
	}
	if doing != "" {
		msg += ", " + doing
	}
	if purge {
		msg += "; its results go too (--purge)"
	} else {
		msg += "; its results are kept under uid " + c.Metadata.UID
	}
	st.Conditions = summarize(slices.Clone(st.Conditions), progressing, ReasonDeleting, msg, c.Metadata.Generation, r.now().UTC())
	return &st
}

// prune does one bounded pass of freeing the result set of uid.
func (r *Reconciler) prune(ctx context.Context, uid string) (time.Duration, error) {
	start := time.Now()
	for {
		done, err := r.Store.PruneBatch(ctx, uid, pruneBatch)
		if err != nil {
			return 0, err
		}
		if done {
			r.log().Info("result set pruned", zap.String("uid", uid))
			return 0, nil
		}
		if time.Since(start) >= r.deleteBudget() {
			return deleteAgain, nil
		}
	}
}

// removeOrphans removes, within a pass's budget, run records of sel left
// by campaign objects that are gone (deleted before deletes were done in
// batches, or by a re-created name): their results are kept as result
// sets like any deleted campaign's. It reports whether records are left.
func (r *Reconciler) removeOrphans(ctx context.Context, sel store.RunSelector) (bool, error) {
	start := time.Now()
	uids := map[string]bool{}
	left := true
	for {
		d, err := r.Store.DeleteRunBatch(ctx, sel, r.deleteBatch())
		if err != nil {
			return true, err
		}
		for _, u := range d.UIDs {
			if !uids[u] {
				uids[u] = true
				if err := r.Store.KeepResults(ctx, sel.Campaign, u, r.now()); err != nil {
					return true, err
				}
			}
		}
		if d.Found == 0 {
			left = false
			break
		}
		if time.Since(start) >= r.deleteBudget() {
			break
		}
	}
	if left {
		return true, nil
	}
	// Every orphan record of the name is gone: count what was kept.
	sets, err := r.Store.ResultSets(ctx)
	if err != nil {
		return false, err
	}
	for _, rs := range sets {
		if rs.Name == sel.Campaign && rs.State == schema.ResultSetDeleting && rs.UID != sel.NotUID {
			if err := r.Store.TallyResults(ctx, rs.UID); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}
