package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// createChunk is how many run records one InsertMany carries.
const createChunk = 5000

// RunID is the _id of a run record.
func RunID(campaign, uid string, run int) string { return schema.RunID(campaign, uid, run) }

// CreateRuns creates Pending run records for runs that have none yet
// (idempotent: existing records are left alone). It returns how many were
// inserted.
func (s *Store) CreateRuns(ctx context.Context, campaign, uid string, runs []int) (int, error) {
	return s.createRuns(ctx, campaign, uid, runs, nil)
}

// createRuns inserts Pending records of runs in chunks, with ids[i] as
// runs[i]'s identity when ids is not nil.
func (s *Store) createRuns(ctx context.Context, campaign, uid string, runs []int, ids []string) (int, error) {
	coll := s.DB.Collection(collRuns)
	now := s.now().UTC()
	inserted := 0
	docs := make([]any, 0, createChunk)
	for start := 0; start < len(runs); start += createChunk {
		end := min(start+createChunk, len(runs))
		docs = docs[:0]
		for i := start; i < end; i++ {
			rec := schema.RunRecord{ID: RunID(campaign, uid, runs[i]), Campaign: campaign, UID: uid,
				Run: runs[i], State: schema.RunPending, UpdatedAt: now}
			if ids != nil {
				rec.Identity = ids[i]
			}
			docs = append(docs, rec)
		}
		res, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if res != nil {
			inserted += len(res.InsertedIDs)
		}
		if err != nil && !onlyDuplicates(err) {
			return inserted, fmt.Errorf("create runs of %s: %w", campaign, err)
		}
	}
	return inserted, nil
}

func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		if bwe.WriteConcernError != nil {
			return false
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return false
			}
		}
		return true
	}
	return mongo.IsDuplicateKeyError(err)
}

// RunCounts counts the runs of (campaign, uid) by state, and the reused
// ones (grouped by where from, in the same pass).
func (s *Store) RunCounts(ctx context.Context, campaign, uid string) (api.RunCounts, error) {
	cur, err := s.DB.Collection(collRuns).Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.M{"campaign": campaign, "uid": uid}}},
		{{Key: "$group", Value: bson.M{"_id": bson.M{"s": "$state", "r": "$reusedFrom.uid"}, "n": bson.M{"$sum": 1}}}},
	})
	if err != nil {
		return api.RunCounts{}, fmt.Errorf("count runs of %s: %w", campaign, err)
	}
	var rows []struct {
		Key struct {
			State  string `bson:"s"`
			Reused string `bson:"r"`
		} `bson:"_id"`
		N int64 `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return api.RunCounts{}, fmt.Errorf("count runs of %s: %w", campaign, err)
	}
	var c api.RunCounts
	for _, r := range rows {
		c.Total += r.N
		if r.Key.Reused != "" && r.Key.State == schema.RunSucceeded {
			c.Reused += r.N
		}
		switch r.Key.State {
		case schema.RunPending:
			c.Pending += r.N
		case schema.RunQueued:
			c.Queued += r.N
		case schema.RunRunning:
			c.Running += r.N
		case schema.RunSucceeded:
			c.Succeeded += r.N
		case schema.RunFailed:
			c.Failed += r.N
		case schema.RunSkipped:
			c.Skipped += r.N
		}
	}
	return c, nil
}

// runsPerReply bounds the run records in one reply: 32 records of 3,000
// files each are about 18 MB, well under the 48 MB message limit.
const runsPerReply = 32

// RunQuery selects run records of one campaign object.
type RunQuery struct {
	Campaign, UID string
	State         string // "" = any
	After         int    // runs with number > After; -1 = from the start
	Limit         int    // 0 = no limit
	// MaxAttempts, if > 0, selects only records with attempts < MaxAttempts.
	MaxAttempts int
	// Unsorted returns matches in storage order (cheap with a Limit);
	// otherwise by ascending run number.
	Unsorted bool
}

// Runs lists run records by ascending run number (unless q.Unsorted).
func (s *Store) Runs(ctx context.Context, q RunQuery) ([]schema.RunRecord, error) {
	f := bson.M{"campaign": q.Campaign, "uid": q.UID, "run": bson.M{"$gt": q.After}}
	if q.State != "" {
		f["state"] = q.State
	}
	if q.MaxAttempts > 0 {
		f["attempts"] = bson.M{"$lt": q.MaxAttempts}
	}
	// A record lists its result files, so it can weigh hundreds of KB:
	// bound the records per reply so that no reply nears the wire message
	// limit (FerretDB sends a first batch whole, however large).
	o := options.Find().SetBatchSize(runsPerReply)
	if !q.Unsorted {
		o.SetSort(bson.D{{Key: "run", Value: 1}})
	}
	if q.Limit > 0 {
		o.SetLimit(int64(q.Limit))
	}
	cur, err := s.DB.Collection(collRuns).Find(ctx, f, o)
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", q.Campaign, err)
	}
	var out []schema.RunRecord
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", q.Campaign, err)
	}
	return out, nil
}

// GetRun returns one run record, or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, campaign, uid string, run int) (*schema.RunRecord, error) {
	var r schema.RunRecord
	err := s.DB.Collection(collRuns).FindOne(ctx, bson.M{"_id": RunID(campaign, uid, run)}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("run %d of %s: %w", run, campaign, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get run %d of %s: %w", run, campaign, err)
	}
	return &r, nil
}

// SetRunState moves a run record from state from to state to (conditional
// on it still being in from); it reports whether it did.
func (s *Store) SetRunState(ctx context.Context, id, from, to, message string) (bool, error) {
	set := bson.M{"state": to, "updatedAt": s.now().UTC()}
	if message != "" {
		set["message"] = message
	}
	res, err := s.DB.Collection(collRuns).UpdateOne(ctx, bson.M{"_id": id, "state": from}, bson.M{"$set": set})
	if err != nil {
		return false, fmt.Errorf("run %s %s->%s: %w", id, from, to, err)
	}
	return res.ModifiedCount == 1, nil
}

// FailRun records a failed attempt that no worker recorded (the queue
// gave up on its task, sent after attempt-1 attempts): unless the record
// has an outcome, or counts attempt already (the task is stale), it
// becomes Failed with message after attempt attempts. It reports whether
// the record changed.
func (s *Store) FailRun(ctx context.Context, id string, attempt int, message string) (bool, error) {
	now := s.now().UTC()
	res, err := s.DB.Collection(collRuns).UpdateOne(ctx,
		bson.M{"_id": id, "state": bson.M{"$nin": bson.A{schema.RunSucceeded, schema.RunFailed, schema.RunSkipped}}, "attempts": bson.M{"$lt": attempt}},
		bson.M{"$set": bson.M{"state": schema.RunFailed, "message": message, "exitCode": -1, "updatedAt": now, "finishedAt": now},
			"$max": bson.M{"attempts": attempt}})
	if err != nil {
		return false, fmt.Errorf("record failure of run %s: %w", id, err)
	}
	return res.ModifiedCount == 1, nil
}

// FailBuild records a build failure that no builder recorded (the queue
// gave up on its task), unless the build has an outcome. It reports
// whether the record changed.
func (s *Store) FailBuild(ctx context.Context, key, message string) (bool, error) {
	res, err := s.DB.Collection(collBuilds).UpdateOne(ctx,
		bson.M{"_id": key, "state": bson.M{"$nin": bson.A{schema.BuildSucceeded, schema.BuildFailed}}},
		bson.M{"$set": bson.M{"state": schema.BuildFailed, "logTail": message, "updatedAt": s.now().UTC()}})
	if err != nil {
		return false, fmt.Errorf("record failure of build %s: %w", key, err)
	}
	return res.ModifiedCount == 1, nil
}

// DeleteRuns removes every run record of sel, DeleteRunBatch after
// DeleteRunBatch (so the result lists of succeeded runs are kept as
// completions), and returns how many it removed. It takes as long as the
// records need: the reconciler uses DeleteRunBatch with a time budget.
func (s *Store) DeleteRuns(ctx context.Context, sel RunSelector) (int64, error) {
	var n int64
	for {
		d, err := s.DeleteRunBatch(ctx, sel, DeleteBatch)
		n += int64(d.N)
		if err != nil || d.Found == 0 {
			return n, err
		}
	}
}

// DeleteBatch is how many run records one statement removes at most, by
// default (FerretDB's SQLite backend puts each in a variable of one SQL
// statement, and allows 32,766).
const DeleteBatch = 20000

// RunCampaigns returns the names of campaigns that have run records.
func (s *Store) RunCampaigns(ctx context.Context) ([]string, error) {
	cur, err := s.DB.Collection(collRuns).Aggregate(ctx, mongo.Pipeline{
		{{Key: "$group", Value: bson.M{"_id": "$campaign"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("list run campaigns: %w", err)
	}
	var rows []struct {
		Name string `bson:"_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list run campaigns: %w", err)
	}
	names := make([]string, 0, len(rows))
	for _, r := range rows {
		names = append(names, r.Name)
	}
	return names, nil
}

// GetBuild returns the build record of key, or ErrNotFound.
func (s *Store) GetBuild(ctx context.Context, key string) (*schema.BuildRecord, error) {
	var b schema.BuildRecord
	err := s.DB.Collection(collBuilds).FindOne(ctx, bson.M{"_id": key}).Decode(&b)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("build %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get build %s: %w", key, err)
	}
	return &b, nil
}

// EnsureBuild creates a Pending build record for key unless one exists.
func (s *Store) EnsureBuild(ctx context.Context, key string) error {
	_, err := s.DB.Collection(collBuilds).InsertOne(ctx, schema.BuildRecord{Key: key, State: schema.BuildPending, UpdatedAt: s.now().UTC()})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("create build %s: %w", key, err)
	}
	return nil
}
