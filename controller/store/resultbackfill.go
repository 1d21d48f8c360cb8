package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// BackfillOptions bound one backfill pass of a campaign object.
type BackfillOptions struct {
	// Limit is how many runs the pass indexes at most.
	Limit int
	// Grace leaves runs stored less than Grace ago to their runner, which
	// indexes them itself.
	Grace time.Duration
	// Now is the clock Grace is measured with (nil: time.Now).
	Now func() time.Time
}

// Backfilled is what a backfill pass did.
type Backfilled struct {
	// Indexed runs got their index document, Remaining are left for a
	// later pass (beyond Limit), Young were stored within Grace, Failed
	// could not be read or written (tried again by a later pass).
	Indexed, Remaining, Young, Failed int
	// Errs are the reasons of the Failed, at most a few.
	Errs []error
}

// BackfillResultIndex indexes the runs of campaign object uid (campaign
// name) that succeeded, with a completion, but have no result index: runs
// stored before indexing existed, or whose worker stopped between storing
// and indexing. Their .sca files are read from GridFS and indexed as the
// runner indexes them (resultindex), and their records get the index's
// summary (resultIndex), so a malformed file is reported on its run as
// when it was stored, and the run stays Succeeded. A run is indexed once:
// its document's _id is the run's, and a run already in the index is left
// alone. A file that cannot be read now (GridFS down) fails the run for
// this pass only; one whose GridFS document is gone is reported on the run.
func (s *Store) BackfillResultIndex(ctx context.Context, campaign, uid string, o BackfillOptions) (Backfilled, error) {
	var out Backfilled
	if o.Limit <= 0 {
		o.Limit = 256
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	indexed := map[int]bool{}
	if _, err := resultindex.Scan(ctx, s.DB, uid, func(string, string) bool { return false }, func(d *resultindex.Doc) error {
		indexed[d.Run] = true
		return nil
	}); err != nil {
		return out, err
	}
	cur, err := s.DB.Collection(schema.CollCompletions).Find(ctx, bson.M{"uid": uid},
		options.Find().SetProjection(bson.M{"files": 1, "attempt": 1, "finishedAt": 1}))
	if err != nil {
		return out, fmt.Errorf("backfill result index of %s: %w", uid, err)
	}
	type todo struct {
		run   int
		comp  schema.Completion
		files []schema.ResultFile
	}
	var work []todo
	cutoff := now().Add(-o.Grace)
	for cur.Next(ctx) {
		var c schema.Completion
		if err := cur.Decode(&c); err != nil {
			cur.Close(ctx)
			return out, fmt.Errorf("backfill result index of %s: %w", uid, err)
		}
		run, err := runOfID(c.ID)
		if err != nil || indexed[run] {
			continue
		}
		switch {
		case o.Grace > 0 && c.FinishedAt.After(cutoff):
			out.Young++
		case len(work) >= o.Limit:
			out.Remaining++
		default:
			work = append(work, todo{run: run, comp: c})
		}
	}
	cur.Close(ctx)
	if err := cur.Err(); err != nil {
		return out, fmt.Errorf("backfill result index of %s: %w", uid, err)
	}
	var docs []*resultindex.Doc
	for _, w := range work {
		d, err := s.indexStored(ctx, campaign, uid, w.run, &w.comp)
		if err != nil {
			out.Failed++
			if len(out.Errs) < 5 {
				out.Errs = append(out.Errs, err)
			}
			continue
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return out, nil
	}
	errs, err := resultindex.Insert(ctx, s.DB, docs)
	if err != nil {
		return out, fmt.Errorf("backfill result index of %s: %w", uid, err)
	}
	var models []mongo.WriteModel
	for i, d := range docs {
		if errs[i] != nil {
			out.Failed++
			if len(out.Errs) < 5 {
				out.Errs = append(out.Errs, errs[i])
			}
			continue
		}
		out.Indexed++
		// Only a Succeeded record: the index never changes a run's state.
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": d.ID, "state": schema.RunSucceeded}).
			SetUpdate(bson.M{"$set": bson.M{"resultIndex": d.Summary()}}))
	}
	if err := schema.UpdateInCommands(ctx, s.DB.Collection(schema.CollRuns), models); err != nil {
		return out, fmt.Errorf("backfill result index of %s: record the index on the runs: %w", uid, err)
	}
	return out, nil
}

// indexStored is the index document of a stored run, from its .sca files
// in GridFS. A file that cannot be parsed, or whose GridFS document is
// gone, is named in the document's Error; a file that cannot be read is
// an error (nothing is indexed: a later pass tries again).
func (s *Store) indexStored(ctx context.Context, campaign, uid string, run int, c *schema.Completion) (*resultindex.Doc, error) {
	d := resultindex.New(resultindex.Run{Campaign: campaign, UID: uid, Run: run, Attempt: c.Attempt})
	bucket := s.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	for _, f := range c.Files {
		if !strings.HasSuffix(f.Name, ".sca") {
			continue
		}
		ds, err := bucket.OpenDownloadStream(ctx, f.FileID)
		if errors.Is(err, mongo.ErrFileNotFound) {
			d.AddSCA(f.Name, errReader{fmt.Errorf("the stored file is gone")})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("run %d: read %s: %w", run, f.Name, err)
		}
		r := &readErr{r: ds}
		d.AddSCA(f.Name, r)
		ds.Close()
		if r.err != nil {
			return nil, fmt.Errorf("run %d: read %s: %w", run, f.Name, r.err)
		}
	}
	return d, nil
}

// readErr remembers a read error other than EOF, which is the storage's
// fault, not the file's.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
