package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// ErrDeleting: the campaign was deleted and is still removing its run
// records; it refuses changes until it is gone.
var ErrDeleting = errors.New("is being deleted")

func deletingError(name string) error {
	return fmt.Errorf("campaign %s %w; it takes no changes until its run records are removed (apply it again when it is gone)",
		name, ErrDeleting)
}

// Delete marks the campaign deleted, keeping its results (MarkDeleted).
func (s *Store) Delete(ctx context.Context, name string) error {
	_, err := s.MarkDeleted(ctx, name, false)
	return err
}

// MarkDeleted marks the campaign deleted and returns it. The object stays
// (metadata.deletionTimestamp set, refusing changes with ErrDeleting)
// until the reconciler has removed its run records in bounded batches
// (DeleteRunBatch) and then the object (FinishDelete). With purge its
// results are removed too; otherwise they stay as a result set under its
// uid. Deleting again is idempotent; it can add purge, never take it back.
func (s *Store) MarkDeleted(ctx context.Context, name string, purge bool) (*api.Campaign, error) {
	coll := s.DB.Collection(collCampaigns)
	now := s.now().UTC().Truncate(time.Millisecond)
	// Read back until the mark holds: campaignWrites orders this
	// process's writes, but a standby controller's API can race the
	// leader's status write on FerretDB (see Store.campaignWrites).
	for attempt := 1; ; attempt++ {
		s.campaignWrites.Lock()
		_, err := coll.UpdateOne(ctx, bson.M{"_id": name, "deletion": bson.M{"$exists": false}},
			bson.M{"$set": bson.M{"deletion": now, "purge": purge}, "$inc": bson.M{"resourceVersion": 1}})
		if err == nil && purge {
			_, err = coll.UpdateOne(ctx, bson.M{"_id": name, "purge": bson.M{"$ne": true}},
				bson.M{"$set": bson.M{"purge": true}, "$inc": bson.M{"resourceVersion": 1}})
		}
		s.campaignWrites.Unlock()
		if err != nil {
			return nil, fmt.Errorf("delete campaign %s: %w", name, err)
		}
		c, err := s.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		marked := c.Metadata.DeletionTimestamp != nil && (!purge || c.Status.Deletion != nil && c.Status.Deletion.Purge)
		if marked {
			return c, nil
		}
		if attempt == markAttempts {
			return nil, fmt.Errorf("delete campaign %s: the mark did not hold after %d writes (concurrent updates); try again", name, attempt)
		}
	}
}

// markAttempts bounds the writes of one MarkDeleted.
const markAttempts = 10

// FinishDelete removes the object (name, uid) marked deleted: the last
// step, once its run records are gone.
func (s *Store) FinishDelete(ctx context.Context, name, uid string) error {
	_, err := s.DB.Collection(collCampaigns).DeleteOne(ctx,
		bson.M{"_id": name, "uid": uid, "deletion": bson.M{"$exists": true}})
	if err != nil {
		return fmt.Errorf("remove deleted campaign %s: %w", name, err)
	}
	return nil
}

// RunSelector picks the run records of Campaign: those of UID if set, of
// any uid but NotUID if that is set, else all.
type RunSelector struct {
	Campaign, UID, NotUID string
}

func (sel RunSelector) filter() bson.M {
	f := bson.M{"campaign": sel.Campaign}
	switch {
	case sel.UID != "":
		f["uid"] = sel.UID
	case sel.NotUID != "":
		f["uid"] = bson.M{"$ne": sel.NotUID}
	}
	return f
}

// DeletedRuns is what one DeleteRunBatch did.
type DeletedRuns struct {
	// Found is how many records it found (0: none are left).
	Found int
	// N is how many it removed.
	N int
	// UIDs are the campaign objects they belonged to.
	UIDs []string
}

// DeleteRunBatch removes at most limit run records of sel, those of one
// uid whose run numbers fall in a window [lo, lo+limit): run numbers are
// unique per uid, so no statement carries more than limit records. One
// DeleteMany of a whole campaign is what FerretDB's SQLite backend turns
// into a single statement with a variable per record ("too many SQL
// variables" past 32,766), and a delete per _id costs a scan of the
// collection each there (its _id index is on an expression its queries do
// not use); a window costs one scan per limit records there, and an
// index range on MongoDB (campaign_uid_run). The window starts at the
// lowest run number among the first limit records found (no sort: the
// server stops at the limit); when they fill the window, as records stored
// in run order do, that is the only read, and each batch costs one scan
// of the collection on FerretDB.
//
// Before Succeeded records go, their result files are recorded in
// completions (collection completions, the run's _id; a runner's own
// completion is already there and stays): the completions of a uid are
// the index of its result set, what `results list` counts, `results pull
// --uid` reads and `results prune` frees. The result files themselves are
// not touched.
//
// Called again after a crash, it continues with what is left.
func (s *Store) DeleteRunBatch(ctx context.Context, sel RunSelector, limit int) (DeletedRuns, error) {
	var out DeletedRuns
	runs := s.DB.Collection(collRuns)
	cur, err := runs.Find(ctx, sel.filter(), options.Find().SetLimit(int64(limit)).
		SetProjection(bson.M{"stderrTail": 0}))
	if err != nil {
		return out, fmt.Errorf("list runs of %s to delete: %w", sel.Campaign, err)
	}
	var sample []schema.RunRecord
	if err := cur.All(ctx, &sample); err != nil {
		return out, fmt.Errorf("list runs of %s to delete: %w", sel.Campaign, err)
	}
	out.Found = len(sample)
	if len(sample) == 0 {
		return out, nil
	}
	uid := sample[0].UID
	lo := sample[0].Run
	for _, r := range sample {
		if r.UID == uid && r.Run < lo {
			lo = r.Run
		}
	}
	out.UIDs = []string{uid}
	window := bson.M{"campaign": sel.Campaign, "uid": uid, "run": bson.M{"$gte": lo, "$lt": lo + limit}}

	// The records the window removes are those of the sample in it when
	// the sample holds every record left, or fills the window (run numbers
	// are unique per uid): the common case, records stored in run order.
	// Otherwise the window's Succeeded records are read (a second scan on
	// FerretDB).
	var inWindow []schema.RunRecord
	for _, r := range sample {
		if r.UID == uid && r.Run < lo+limit {
			inWindow = append(inWindow, r)
		}
	}
	succeeded := inWindow
	if len(sample) == limit && len(inWindow) < limit {
		f := bson.M{"state": schema.RunSucceeded}
		for k, v := range window {
			f[k] = v
		}
		cur, err = runs.Find(ctx, f, options.Find().SetProjection(bson.M{"stderrTail": 0}))
		if err != nil {
			return out, fmt.Errorf("list succeeded runs of %s to delete: %w", sel.Campaign, err)
		}
		succeeded = nil
		if err := cur.All(ctx, &succeeded); err != nil {
			return out, fmt.Errorf("list succeeded runs of %s to delete: %w", sel.Campaign, err)
		}
	}
	var comps []any
	for _, r := range succeeded {
		if r.State != schema.RunSucceeded || len(r.Files) == 0 {
			continue
		}
		fin := r.UpdatedAt
		if r.FinishedAt != nil {
			fin = *r.FinishedAt
		}
		c := schema.Completion{ID: r.ID, Campaign: r.Campaign, UID: r.UID, Attempt: r.Attempts, Worker: r.Worker,
			Files: r.Files, DurationMS: r.DurationMS, CPUMS: r.CPUMS, FinishedAt: fin}
		if r.StartedAt != nil {
			c.StartedAt = *r.StartedAt
		}
		comps = append(comps, c)
	}
	if len(comps) > 0 {
		_, err := s.DB.Collection(schema.CollCompletions).InsertMany(ctx, comps, options.InsertMany().SetOrdered(false))
		if err != nil && !onlyDuplicates(err) {
			return out, fmt.Errorf("keep result lists of %s: %w", sel.Campaign, err)
		}
	}
	res, err := runs.DeleteMany(ctx, window)
	if err != nil {
		return out, fmt.Errorf("delete runs %d..%d of %s: %w", lo, lo+limit-1, sel.Campaign, err)
	}
	out.N = int(res.DeletedCount)
	return out, nil
}
