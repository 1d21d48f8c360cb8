package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
)

// RunSummary is the part of a run record that overviews need: everything
// but the result file list, the message's and the stderr tail's length
// aside (both are capped by the workers).
type RunSummary struct {
	Campaign   string     `bson:"campaign"`
	UID        string     `bson:"uid"`
	Run        int        `bson:"run"`
	State      string     `bson:"state"`
	Attempts   int        `bson:"attempts"`
	Worker     string     `bson:"worker,omitempty"`
	ExitCode   int        `bson:"exitCode"`
	DurationMS int64      `bson:"durationMs"`
	Message    string     `bson:"message,omitempty"`
	StderrTail string     `bson:"stderrTail,omitempty"`
	UpdatedAt  time.Time  `bson:"updatedAt"`
	FinishedAt *time.Time `bson:"finishedAt,omitempty"`
}

// summaryProjection leaves out what overviews never show (result files).
var summaryProjection = bson.M{"files": 0}

// ScanRuns calls fn for every run record of every campaign, in storage
// order, with the record's summary; fn's error stops the scan and is
// returned. It is one read of the collection: on a server without usable
// indexes (FerretDB's SQLite backend) that costs the same as any other
// query on runs, so callers that need several views of the records should
// take them all from one scan.
func (s *Store) ScanRuns(ctx context.Context, fn func(*RunSummary) error) error {
	cur, err := s.DB.Collection(collRuns).Find(ctx, bson.M{},
		options.Find().SetProjection(summaryProjection).SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("scan runs: %w", err)
	}
	defer cur.Close(context.Background())
	var r RunSummary
	for cur.Next(ctx) {
		r = RunSummary{}
		if err := cur.Decode(&r); err != nil {
			return fmt.Errorf("scan runs: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("scan runs: %w", err)
	}
	return nil
}

// RetryFailedRuns sends every Failed run of the campaign object (name,
// uid) back to Pending, keeping its attempt count, so that the reconciler
// dispatches it once more (with attempts already at the campaign's limit
// it gets exactly one more try). It returns how many runs it reset.
//
// The failed runs are listed first and reset retryChunk at a time:
// FerretDB 1.24 updates each matched document in a write transaction of
// its own (stock: after scanning the table for it), so one update of them
// all held its single SQLite writer for as long as a thousand runner
// commits, and the runners' record updates meanwhile failed with
// SQLITE_BUSY (TestRetryOfManyFailedRunsKeepsFerretDBAnswering, 1,500
// runs); 5,000 outlasted the client's timeout. retryChunk is a runner
// commit's size (maxBatchCommit there), which holds. A run that left
// Failed between the listing and its update is not reset (the filter
// names the state again); one that failed meanwhile waits for the next
// retry.
func (s *Store) RetryFailedRuns(ctx context.Context, name, uid string) (int64, error) {
	runs := s.DB.Collection(collRuns)
	filter := bson.M{"campaign": name, "uid": uid, "state": schema.RunFailed}
	cur, err := runs.Find(ctx, filter, options.Find().SetProjection(bson.M{"_id": 1}).SetBatchSize(5000))
	if err != nil {
		return 0, fmt.Errorf("retry failed runs of %s: %w", name, err)
	}
	var ids []any
	for cur.Next(ctx) {
		ids = append(ids, cur.Current.Lookup("_id"))
	}
	cur.Close(context.WithoutCancel(ctx))
	if err := cur.Err(); err != nil {
		return 0, fmt.Errorf("retry failed runs of %s: %w", name, err)
	}
	var n int64
	for len(ids) > 0 {
		k := min(len(ids), retryChunk)
		res, err := runs.UpdateMany(ctx, bson.M{"_id": bson.M{"$in": ids[:k]}, "state": schema.RunFailed},
			bson.M{"$set": bson.M{"state": schema.RunPending, "updatedAt": s.now().UTC(),
				"message": "retry requested after failure"}})
		if err != nil {
			return n, fmt.Errorf("retry failed runs of %s (%d reset): %w", name, n, err)
		}
		n += res.ModifiedCount
		ids = ids[k:]
	}
	return n, nil
}

// retryChunk bounds the run records one update of RetryFailedRuns writes.
const retryChunk = 16

// Builds lists the build records (one per content key: few), newest
// first.
func (s *Store) Builds(ctx context.Context) ([]schema.BuildRecord, error) {
	cur, err := s.DB.Collection(collBuilds).Find(ctx, bson.M{},
		options.Find().SetProjection(bson.M{"artifactId": 0}))
	if err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	var out []schema.BuildRecord
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	// Sorted here: the collection is small and FerretDB sorts in memory
	// anyway.
	sort.SliceStable(out, func(i, j int) bool { return out[i].UpdatedAt.After(out[j].UpdatedAt) })
	return out, nil
}
