package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// collResultSets holds one schema.ResultSet per deleted campaign object whose
// results were kept (_id = the object's uid).
const collResultSets = "resultsets"

// ErrInUse: the results asked for are a live campaign's.
var ErrInUse = errors.New("in use")

// KeepResults records the result set of the deleted object (name, uid) in
// state Deleting; recording it again changes nothing.
func (s *Store) KeepResults(ctx context.Context, name, uid string, deletedAt time.Time) error {
	_, err := s.DB.Collection(collResultSets).InsertOne(ctx, schema.ResultSet{UID: uid, Name: name, State: schema.ResultSetDeleting,
		DeletedAt: deletedAt.UTC().Truncate(time.Millisecond)})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("keep results of %s (uid %s): %w", name, uid, err)
	}
	return nil
}

// TallyResults counts the kept results of uid (one pass over its
// completions) and, if the set is still Deleting, makes it Kept.
func (s *Store) TallyResults(ctx context.Context, uid string) error {
	cur, err := s.DB.Collection(schema.CollCompletions).Find(ctx, bson.M{"uid": uid},
		options.Find().SetProjection(bson.M{"files": 1}))
	if err != nil {
		return fmt.Errorf("count results of uid %s: %w", uid, err)
	}
	defer cur.Close(ctx)
	var runs, files, bytes int64
	for cur.Next(ctx) {
		var c struct {
			Files []schema.ResultFile `bson:"files"`
		}
		if err := cur.Decode(&c); err != nil {
			return fmt.Errorf("count results of uid %s: %w", uid, err)
		}
		runs++
		files += int64(len(c.Files))
		for _, f := range c.Files {
			bytes += f.Size
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("count results of uid %s: %w", uid, err)
	}
	_, err = s.DB.Collection(collResultSets).UpdateOne(ctx, bson.M{"_id": uid, "state": schema.ResultSetDeleting},
		bson.M{"$set": bson.M{"state": schema.ResultSetKept, "runs": runs, "files": files, "bytes": bytes}})
	if err != nil {
		return fmt.Errorf("count results of uid %s: %w", uid, err)
	}
	return nil
}

// ResultSets lists the kept result sets, oldest deletion first.
func (s *Store) ResultSets(ctx context.Context) ([]schema.ResultSet, error) {
	cur, err := s.DB.Collection(collResultSets).Find(ctx, bson.M{},
		options.Find().SetSort(bson.D{{Key: "deletedAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list result sets: %w", err)
	}
	out := []schema.ResultSet{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list result sets: %w", err)
	}
	return out, nil
}

// GetResultSet returns the result set of uid. When there is none it says
// why: ErrInUse if uid is a live campaign's, ErrNotFound otherwise.
func (s *Store) GetResultSet(ctx context.Context, uid string) (*schema.ResultSet, error) {
	var rs schema.ResultSet
	err := s.DB.Collection(collResultSets).FindOne(ctx, bson.M{"_id": uid}).Decode(&rs)
	if err == nil {
		return &rs, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("get result set %s: %w", uid, err)
	}
	var d campaignDoc
	err = s.DB.Collection(collCampaigns).FindOne(ctx, bson.M{"uid": uid}).Decode(&d)
	switch {
	case err == nil && d.Deletion != nil:
		return nil, fmt.Errorf("uid %s is campaign %s, which is being deleted with its results (--purge): %w", uid, d.Name, ErrInUse)
	case err == nil:
		return nil, fmt.Errorf("uid %s is live campaign %s: its results are pulled by name (simswarm results pull %s); "+
			"delete the campaign first to prune them (simswarm delete %s, or delete --purge): %w", uid, d.Name, d.Name, d.Name, ErrInUse)
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, fmt.Errorf("no kept result set has uid %q (simswarm results list shows them): %w", uid, ErrNotFound)
	default:
		return nil, fmt.Errorf("get result set %s: %w", uid, err)
	}
}

// KeptRun is the kept result files of one run of a result set.
type KeptRun struct {
	Run   int
	Files []schema.ResultFile
}

// KeptResults lists one page of the result set's runs, by _id: those after
// the _id after ("" = from the start). next is the after of the next page,
// "" when this is the last.
func (s *Store) KeptResults(ctx context.Context, uid, after string, limit int) (runs []KeptRun, next string, err error) {
	f := bson.M{"uid": uid}
	if after != "" {
		f["_id"] = bson.M{"$gt": after}
	}
	cur, err := s.DB.Collection(schema.CollCompletions).Find(ctx, f, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)).SetProjection(bson.M{"files": 1}))
	if err != nil {
		return nil, "", fmt.Errorf("list results of uid %s: %w", uid, err)
	}
	var docs []struct {
		ID    string              `bson:"_id"`
		Files []schema.ResultFile `bson:"files"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", fmt.Errorf("list results of uid %s: %w", uid, err)
	}
	for _, d := range docs {
		n, err := runOfID(d.ID)
		if err != nil {
			return nil, "", err
		}
		runs = append(runs, KeptRun{Run: n, Files: d.Files})
	}
	if len(docs) == limit && limit > 0 {
		next = docs[len(docs)-1].ID
	}
	return runs, next, nil
}

func runOfID(id string) (int, error) {
	i := strings.LastIndexByte(id, '/')
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return 0, fmt.Errorf("completion %q: no run number", id)
	}
	return n, nil
}

// KeptResult returns the file called name of run of the result set rs.
func (s *Store) KeptResult(ctx context.Context, rs *schema.ResultSet, run int, name string) (*schema.ResultFile, error) {
	var c schema.Completion
	err := s.DB.Collection(schema.CollCompletions).FindOne(ctx, bson.M{"_id": RunID(rs.Name, rs.UID, run)}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("run %d of result set %s: %w", run, rs.UID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("run %d of result set %s: %w", run, rs.UID, err)
	}
	for i := range c.Files {
		if c.Files[i].Name == name {
			return &c.Files[i], nil
		}
	}
	return nil, fmt.Errorf("result %q of run %d of result set %s: %w", name, run, rs.UID, ErrNotFound)
}

// RequestPrune marks the result set of uid for pruning (PruneBatch frees
// it). A set still Deleting, or a live campaign's uid, is refused with
// ErrInUse; an unknown uid with ErrNotFound.
func (s *Store) RequestPrune(ctx context.Context, uid string) (*schema.ResultSet, error) {
	rs, err := s.GetResultSet(ctx, uid)
	if err != nil {
		return nil, err
	}
	if rs.State == schema.ResultSetDeleting {
		return nil, fmt.Errorf("result set %s (campaign %s) is still being deleted; prune it when simswarm results list shows it Kept: %w",
			uid, rs.Name, ErrInUse)
	}
	if _, err := s.DB.Collection(collResultSets).UpdateOne(ctx, bson.M{"_id": uid, "state": schema.ResultSetKept},
		bson.M{"$set": bson.M{"state": schema.ResultSetPruning}}); err != nil {
		return nil, fmt.Errorf("prune result set %s: %w", uid, err)
	}
	rs.State = schema.ResultSetPruning
	return rs, nil
}

// PruningResultSets lists the uids of result sets being pruned.
func (s *Store) PruningResultSets(ctx context.Context) ([]string, error) {
	cur, err := s.DB.Collection(collResultSets).Find(ctx, bson.M{"state": schema.ResultSetPruning},
		options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, fmt.Errorf("list result sets being pruned: %w", err)
	}
	var docs []struct {
		UID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list result sets being pruned: %w", err)
	}
	uids := make([]string, 0, len(docs))
	for _, d := range docs {
		uids = append(uids, d.UID)
	}
	return uids, nil
}

// PruneBatch frees some of the results of uid: the files (GridFS file
// documents and chunks) of at most limit runs with their completions, or,
// once those are gone, at most limit result files of uid that no
// completion lists (an attempt that died between its upload and its
// completion). It reports done when nothing of uid is left; the result
// set record is removed then. Chunks go before the file documents that
// name them, and completions last, so a prune that dies part way leaves
// nothing unreachable: the next one continues.
func (s *Store) PruneBatch(ctx context.Context, uid string, limit int) (done bool, err error) {
	comps := s.DB.Collection(schema.CollCompletions)
	cur, err := comps.Find(ctx, bson.M{"uid": uid}, options.Find().SetLimit(int64(limit)).SetProjection(bson.M{"files": 1}))
	if err != nil {
		return false, fmt.Errorf("prune %s: %w", uid, err)
	}
	var docs []struct {
		ID    string              `bson:"_id"`
		Files []schema.ResultFile `bson:"files"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return false, fmt.Errorf("prune %s: %w", uid, err)
	}
	if len(docs) > 0 {
		var files []storedFile
		ids := make([]any, 0, len(docs))
		for _, d := range docs {
			for _, f := range d.Files {
				files = append(files, storedFile{ID: f.FileID, Length: f.Size})
			}
			ids = append(ids, d.ID)
		}
		if err := s.deleteResultFiles(ctx, files); err != nil {
			return false, fmt.Errorf("prune %s: %w", uid, err)
		}
		// The result index goes with the results it indexes, before the
		// completions that find it (same _id).
		if _, err := s.DB.Collection(resultindex.Collection).DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
			return false, fmt.Errorf("prune %s: remove result index: %w", uid, err)
		}
		if _, err := comps.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
			return false, fmt.Errorf("prune %s: remove completions: %w", uid, err)
		}
		_, err := s.DB.Collection(collResultSets).UpdateOne(ctx, bson.M{"_id": uid}, bson.M{"$inc": bson.M{"freed": len(docs)}})
		if err != nil {
			return false, fmt.Errorf("prune %s: %w", uid, err)
		}
		return false, nil
	}
	cur, err = s.DB.Collection(schema.BucketResults+".files").Find(ctx, bson.M{"metadata.uid": uid},
		options.Find().SetLimit(int64(limit)).SetProjection(bson.M{"_id": 1, "length": 1}))
	if err != nil {
		return false, fmt.Errorf("prune %s: %w", uid, err)
	}
	var strays []storedFile
	if err := cur.All(ctx, &strays); err != nil {
		return false, fmt.Errorf("prune %s: %w", uid, err)
	}
	if len(strays) > 0 {
		if err := s.deleteResultFiles(ctx, strays); err != nil {
			return false, fmt.Errorf("prune %s: %w", uid, err)
		}
		return false, nil
	}
	// The compacted result index goes last: its runs' completions are gone.
	if err := resultindex.DeleteSegments(ctx, s.DB, uid); err != nil {
		return false, fmt.Errorf("prune %s: %w", uid, err)
	}
	if _, err := s.DB.Collection(collResultSets).DeleteOne(ctx, bson.M{"_id": uid}); err != nil {
		return false, fmt.Errorf("prune %s: %w", uid, err)
	}
	return true, nil
}

type storedFile struct {
	ID     any   `bson:"_id"`
	Length int64 `bson:"length"`
}

// chunkBatch bounds the chunks one statement removes (see DeleteBatch).
const chunkBatch = 10000

// resultChunkSize is the chunk size runners write (GridFS's default); it
// only sizes the groups of deleteResultFiles.
const resultChunkSize = 255 * 1024

// deleteResultFiles removes result files: their chunks, a group of files
// (or a range of one large file's chunks) of at most chunkBatch chunks per
// statement, then their file documents.
func (s *Store) deleteResultFiles(ctx context.Context, files []storedFile) error {
	if len(files) == 0 {
		return nil
	}
	chunks := s.DB.Collection(schema.BucketResults + ".chunks")
	var group []any
	inGroup := int64(0)
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		_, err := chunks.DeleteMany(ctx, bson.M{"files_id": bson.M{"$in": group}})
		group, inGroup = group[:0], 0
		if err != nil {
			return fmt.Errorf("remove result chunks: %w", err)
		}
		return nil
	}
	ids := make([]any, 0, len(files))
	for _, f := range files {
		ids = append(ids, f.ID)
		n := (f.Length + resultChunkSize - 1) / resultChunkSize
		if n > chunkBatch {
			for from := int64(0); from < n+1; from += chunkBatch {
				if _, err := chunks.DeleteMany(ctx, bson.M{"files_id": f.ID, "n": bson.M{"$gte": from, "$lt": from + chunkBatch}}); err != nil {
					return fmt.Errorf("remove result chunks: %w", err)
				}
			}
			continue
		}
		if inGroup+n > chunkBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		group = append(group, f.ID)
		inGroup += max(n, 1)
	}
	if err := flush(); err != nil {
		return err
	}
	for start := 0; start < len(ids); start += chunkBatch {
		part := ids[start:min(start+chunkBatch, len(ids))]
		if _, err := s.DB.Collection(schema.BucketResults+".files").DeleteMany(ctx, bson.M{"_id": bson.M{"$in": part}}); err != nil {
			return fmt.Errorf("remove result files: %w", err)
		}
	}
	return nil
}
