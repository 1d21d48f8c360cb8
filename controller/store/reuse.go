package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// ReuseWorker is the worker a reused run's record and completion name.
const ReuseWorker = "reused"

// ErrDonorGone reports that the run to reuse has lost a result file (its
// results were pruned meanwhile): the run must be run instead.
var ErrDonorGone = errors.New("the stored run's results are gone")

// CreateRunsIdentified is CreateRuns with each run's identity on its
// record: ids[i] is runs[i]'s.
func (s *Store) CreateRunsIdentified(ctx context.Context, campaign, uid string, runs []int, ids []string) (int, error) {
	if len(ids) != len(runs) {
		return 0, fmt.Errorf("create runs of %s: %d identities for %d runs", campaign, len(ids), len(runs))
	}
	return s.createRuns(ctx, campaign, uid, runs, ids)
}

// ReusableRuns finds, for each of ids, a succeeded run of another campaign
// object than uid with that identity (one query: the identity field is
// indexed; FerretDB's SQLite backend still reads every run record).
func (s *Store) ReusableRuns(ctx context.Context, uid string, ids []string) (map[string]schema.RunRecord, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in := make(bson.A, len(ids))
	for i, id := range ids {
		in[i] = id
	}
	cur, err := s.DB.Collection(collRuns).Find(ctx, bson.M{"identity": bson.M{"$in": in}, "state": schema.RunSucceeded, "uid": bson.M{"$ne": uid}},
		options.Find().SetProjection(bson.M{"campaign": 1, "uid": 1, "run": 1, "identity": 1, "files": 1, "durationMs": 1, "cpuMs": 1}))
	if err != nil {
		return nil, fmt.Errorf("find runs to reuse: %w", err)
	}
	var recs []schema.RunRecord
	if err := cur.All(ctx, &recs); err != nil {
		return nil, fmt.Errorf("find runs to reuse: %w", err)
	}
	out := make(map[string]schema.RunRecord, len(recs))
	for _, r := range recs {
		if _, ok := out[r.Identity]; !ok {
			out[r.Identity] = r
		}
	}
	return out, nil
}

// StoreReused records run of (campaign, uid), whose identity is identity,
// as succeeded with the results of the stored run from: copies of its
// files (so that deleting or pruning either campaign leaves the other's
// whole; each copy's sha256 is checked against the original's), a
// completion, a result index document and its record, written in that
// order as a runner writes them. A copy interrupted part way is finished
// by the next call (the completion decides which copies count; others
// are removed). ErrDonorGone: from lost a file meanwhile; nothing is
// recorded, the run must be run.
func (s *Store) StoreReused(ctx context.Context, campaign, uid string, run int, identity string, from schema.RunRecord) (schema.RunRecord, error) {
	id := RunID(campaign, uid, run)
	tmp, err := os.MkdirTemp("", "reuse-")
	if err != nil {
		return schema.RunRecord{}, err
	}
	defer os.RemoveAll(tmp)
	files, scas, err := s.copyResults(ctx, campaign, uid, run, from.Files, tmp)
	if err != nil {
		return schema.RunRecord{}, err
	}
	now := s.now().UTC()
	comp := schema.Completion{ID: id, Campaign: campaign, UID: uid, Worker: ReuseWorker, Files: files,
		DurationMS: from.DurationMS, CPUMS: from.CPUMS, StartedAt: now, FinishedAt: now}
	comps := s.DB.Collection(schema.CollCompletions)
	if _, err := comps.InsertOne(ctx, comp); mongo.IsDuplicateKeyError(err) {
		// An earlier pass got this far: its copies count, ours go.
		s.deleteCopies(files)
		if err := comps.FindOne(ctx, bson.M{"_id": id}).Decode(&comp); err != nil {
			return schema.RunRecord{}, fmt.Errorf("read completion %s: %w", id, err)
		}
	} else if err != nil {
		s.deleteCopies(files)
		return schema.RunRecord{}, fmt.Errorf("record reused run %s: %w", id, err)
	}
	doc := resultindex.Build(resultindex.Run{Campaign: campaign, UID: uid, Run: run, Attempt: comp.Attempt}, scas)
	summary := doc.Summary()
	if errs, err := resultindex.Insert(ctx, s.DB, []*resultindex.Doc{doc}); err != nil {
		summary.Values, summary.Error = 0, err.Error()
	} else if errs[0] != nil && !mongo.IsDuplicateKeyError(errs[0]) {
		summary.Values, summary.Error = 0, errs[0].Error()
	}
	rec := schema.RunRecord{ID: id, Campaign: campaign, UID: uid, Run: run, Identity: identity, ResultIndex: &summary,
		ReusedFrom: &schema.ReusedFrom{Campaign: from.Campaign, UID: from.UID, Run: from.Run}}
	set := bson.M(comp.RecordFields())
	set["resultIndex"], set["identity"], set["reusedFrom"] = rec.ResultIndex, rec.Identity, rec.ReusedFrom
	// The record may exist (Pending) already: created before the run
	// list was known, or by a pass that died before reusing it.
	_, err = s.DB.Collection(collRuns).UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}},
		bson.M{"$set": set, "$setOnInsert": bson.M{"campaign": campaign, "uid": uid, "run": run}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return schema.RunRecord{}, fmt.Errorf("record reused run %s: %w", id, err)
	}
	rec.State, rec.Files, rec.Worker = schema.RunSucceeded, comp.Files, ReuseWorker
	return rec, nil
}

// copyResults copies the files of a stored run as run's, the .sca files
// also into dir (for the result index); it returns the copies and those
// paths.
func (s *Store) copyResults(ctx context.Context, campaign, uid string, run int, src []schema.ResultFile, dir string) ([]schema.ResultFile, []string, error) {
	var out []schema.ResultFile
	var scas []string
	fail := func(err error) ([]schema.ResultFile, []string, error) {
		s.deleteCopies(out)
		return nil, nil, err
	}
	for i, f := range src {
		in, err := gridfs.OpenByID(ctx, s.DB, schema.BucketResults, f.FileID)
		if errors.Is(err, mongo.ErrFileNotFound) {
			return fail(fmt.Errorf("%w: %s", ErrDonorGone, f.Name))
		}
		if err != nil {
			return fail(fmt.Errorf("open %s: %w", f.Name, err))
		}
		var r io.Reader = in
		if strings.HasSuffix(f.Name, ".sca") {
			p := filepath.Join(dir, fmt.Sprintf("%d.sca", i))
			tf, err := os.Create(p)
			if err != nil {
				in.Close()
				return fail(err)
			}
			defer tf.Close()
			r = io.TeeReader(in, tf)
			scas = append(scas, p)
		}
		up, err := gridfs.Upload(ctx, s.DB, schema.BucketResults, schema.ResultName(campaign, uid, run, f.Name), r,
			bson.M{"campaign": campaign, "uid": uid, "run": run, "attempt": 0, "name": f.Name, "size": f.Size, "sha256": f.SHA256})
		in.Close()
		if err != nil {
			return fail(fmt.Errorf("copy %s: %w", f.Name, err))
		}
		out = append(out, schema.ResultFile{Name: f.Name, Size: up.Size, SHA256: up.SHA256, FileID: up.ID})
		if up.SHA256 != f.SHA256 || up.Size != f.Size {
			return fail(fmt.Errorf("copy of %s has sha256 %s (%d bytes), the stored run's says %s (%d bytes)",
				f.Name, up.SHA256, up.Size, f.SHA256, f.Size))
		}
	}
	return out, scas, nil
}

// deleteCopies removes copies that must not stay; best effort with its
// own deadline (what failed may be the caller's context). A copy left
// behind is a stray the campaign's prune removes.
func (s *Store) deleteCopies(files []schema.ResultFile) {
	if len(files) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stored := make([]storedFile, len(files))
	for i, f := range files {
		stored[i] = storedFile{ID: f.FileID, Length: f.Size}
	}
	_ = s.deleteResultFiles(ctx, stored)
}
