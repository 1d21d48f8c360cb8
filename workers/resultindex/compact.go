package resultindex

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
)

// SegmentCollection holds merged segments of compacted runs: up to
// SegmentRuns runs (and about segmentBytes) of one campaign object each.
const SegmentCollection = "resultsegments"

// SmallSegmentCollection holds the segments compaction writes (about
// CompactMin runs each), until Merge folds a campaign object's into
// SegmentCollection. Apart, so that finding them does not read the large
// ones: FerretDB reads every document of a collection for any query.
const SmallSegmentCollection = "resultsmallsegments"

const (
	// CompactMin is how many run documents of one campaign object Compact
	// waits for before it folds them into segments.
	CompactMin = 256
	// SegmentRuns bounds the runs of one segment.
	SegmentRuns = 4096
	// segmentBytes bounds a segment's estimated size (MongoDB's limit is
	// 16 MB a document).
	segmentBytes = 8 << 20
	// compactEvery: about one run document in compactEvery makes Insert
	// look whether its campaign object has CompactMin to compact.
	compactEvery = 64
	// MergeMin is how many small segments of one campaign object Merge
	// waits for before it merges them into one of SegmentCollection.
	MergeMin = 16
)

var runID = schema.RunID

type segmentDoc struct {
	ID       string `bson:"_id"`
	Campaign string `bson:"campaign"`
	UID      string `bson:"uid"`
	Runs     int    `bson:"runs"`
	Data     []byte `bson:"data"`
}

// SegmentIndexes are the segment collection's indexes.
func SegmentIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{{Keys: bson.D{{Key: "uid", Value: 1}}, Options: options.Index().SetName("uid")}}
}

// segmentCollections are the collections of segments, in the order a run
// moves through them (and so the order Scan reads them in).
var segmentCollections = []string{SmallSegmentCollection, SegmentCollection}

// compactDue says whether inserting docs should look for runs to compact,
// and of which campaign objects: about one run in compactEvery, chosen by
// its _id (no state: any runner of any batch may do it).
func compactDue(docs []*Doc) []string {
	var uids []string
	for _, d := range docs {
		h := fnv.New32a()
		h.Write([]byte(d.ID))
		if h.Sum32()%compactEvery == 0 {
			dup := false
			for _, u := range uids {
				dup = dup || u == d.UID
			}
			if !dup {
				uids = append(uids, d.UID)
			}
		}
	}
	return uids
}

// Compact folds the run documents of campaign object uid into segments,
// when there are at least CompactMin: the segments are written first,
// then the run documents they hold are removed. A crash between the two
// leaves runs in both places, a compaction racing another writes some
// runs into two segments: Scan reads each run once all the same. A
// segment's _id is its campaign object's uid and a digest of its runs and
// their attempts, so writing the same one twice is a duplicate, not a
// copy. It reports how many runs it folded.
func Compact(ctx context.Context, db *mongo.Database, uid string) (int, error) {
	// No count first: on FerretDB a count parses every row as a find does.
	coll := db.Collection(Collection)
	cur, err := coll.Find(ctx, bson.M{"uid": uid}, options.Find().SetBatchSize(2000))
	if err != nil {
		return 0, fmt.Errorf("compact result index of %s: %w", uid, err)
	}
	var docs []*Doc
	for cur.Next(ctx) {
		d := &Doc{}
		if err := cur.Decode(d); err != nil {
			cur.Close(ctx)
			return 0, fmt.Errorf("compact result index of %s: %w", uid, err)
		}
		docs = append(docs, d)
	}
	cur.Close(ctx)
	if err := cur.Err(); err != nil {
		return 0, fmt.Errorf("compact result index of %s: %w", uid, err)
	}
	if len(docs) < CompactMin {
		return 0, nil
	}
	if _, err := writeSegments(ctx, db, bySize, uid, docs, nil); err != nil {
		return 0, err
	}
	ids := make([]any, 0, 1000)
	for i, d := range docs {
		ids = append(ids, d.ID)
		if len(ids) == cap(ids) || i == len(docs)-1 {
			if _, err := coll.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
				return 0, fmt.Errorf("compact result index of %s: remove compacted runs: %w", uid, err)
			}
			ids = ids[:0]
		}
	}
	if _, err := Merge(ctx, db, uid); err != nil {
		return len(docs), err
	}
	return len(docs), nil
}

// bySize sends a segment of at least half of SegmentRuns or segmentBytes
// to SegmentCollection, a smaller one to SmallSegmentCollection.
func bySize(runs, size int) string {
	if runs >= SegmentRuns/2 || size >= segmentBytes/2 {
		return SegmentCollection
	}
	return SmallSegmentCollection
}

// toMerged sends every segment to SegmentCollection.
func toMerged(int, int) string { return SegmentCollection }

// writeSegments writes docs (runs of campaign object uid, each once) as
// segments of up to SegmentRuns runs and about segmentBytes each, in run
// order, into the collection route names for each, and returns their
// _ids. step, when not nil, is called after each segment written; its
// error stops the writing (tests interrupt with it).
func writeSegments(ctx context.Context, db *mongo.Database, route func(runs, size int) string, uid string, docs []*Doc, step func() error) ([]string, error) {
	sort.Slice(docs, func(i, j int) bool { return docs[i].Run < docs[j].Run })
	var ids []string
	for start := 0; start < len(docs); {
		end, size := start, 0
		for end < len(docs) && end-start < SegmentRuns && (end == start || size+segmentSize(docs[end]) <= segmentBytes) {
			size += segmentSize(docs[end])
			end++
		}
		id, err := writeSegment(ctx, db, route(end-start, size), uid, docs[start:end])
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
		if step != nil {
			if err := step(); err != nil {
				return ids, err
			}
		}
		start = end
	}
	return ids, nil
}

func writeSegment(ctx context.Context, db *mongo.Database, coll, uid string, docs []*Doc) (string, error) {
	h := sha256.New()
	var b [16]byte
	for _, d := range docs {
		binary.LittleEndian.PutUint64(b[:8], uint64(d.Run))
		binary.LittleEndian.PutUint64(b[8:], uint64(d.Attempt))
		h.Write(b[:])
	}
	seg := segmentDoc{ID: uid + "/" + hex.EncodeToString(h.Sum(nil)[:12]), Campaign: docs[0].Campaign, UID: uid,
		Runs: len(docs), Data: encodeSegment(docs)}
	_, err := db.Collection(coll).InsertOne(ctx, seg)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return "", fmt.Errorf("compact result index of %s: write segment: %w", uid, err)
	}
	return seg.ID, nil
}

// Scan calls fn with the document of every indexed run of campaign object
// uid, each run once, with only the values keep accepts (nil: all; keep
// is asked per value of a run document and per column of a segment). The
// run documents are read before the segments, so that a compaction
// running meanwhile (it writes a segment before it removes the documents
// in it) cannot hide a run. It reports how many run documents are not
// compacted yet.
func Scan(ctx context.Context, db *mongo.Database, uid string, keep func(module, name string) bool, fn func(*Doc) error) (int, error) {
	seen := map[int]bool{}
	cur, err := db.Collection(Collection).Find(ctx, bson.M{"uid": uid}, options.Find().SetBatchSize(2000))
	if err != nil {
		return 0, fmt.Errorf("read result index of %s: %w", uid, err)
	}
	defer cur.Close(ctx)
	loose := 0
	for cur.Next(ctx) {
		var d Doc
		if err := cur.Decode(&d); err != nil {
			return 0, fmt.Errorf("read result index of %s: %w", uid, err)
		}
		loose++
		if seen[d.Run] {
			continue
		}
		seen[d.Run] = true
		d.Indexed = len(d.Values)
		if keep != nil {
			kept := d.Values[:0]
			for _, v := range d.Values {
				if keep(v.Module, v.Name) {
					kept = append(kept, v)
				}
			}
			d.Values = kept
		}
		if err := fn(&d); err != nil {
			return 0, err
		}
	}
	if err := cur.Err(); err != nil {
		return 0, fmt.Errorf("read result index of %s: %w", uid, err)
	}
	for _, coll := range segmentCollections {
		if err := scanSegments(ctx, db.Collection(coll), uid, keep, seen, fn); err != nil {
			return 0, err
		}
	}
	return loose, nil
}

// scanSegments calls fn with the runs of the segments of uid in coll that
// are not in seen, and adds them to it.
func scanSegments(ctx context.Context, coll *mongo.Collection, uid string, keep func(module, name string) bool, seen map[int]bool, fn func(*Doc) error) error {
	scur, err := coll.Find(ctx, bson.M{"uid": uid})
	if err != nil {
		return fmt.Errorf("read result index of %s: %w", uid, err)
	}
	defer scur.Close(ctx)
	for scur.Next(ctx) {
		var seg segmentDoc
		if err := scur.Decode(&seg); err != nil {
			return fmt.Errorf("read result index of %s: %w", uid, err)
		}
		docs, err := decodeSegment(seg.Data, seg.Campaign, seg.UID, keep)
		if err != nil {
			return fmt.Errorf("read result index of %s: segment %s: %w", uid, seg.ID, err)
		}
		for _, d := range docs {
			if seen[d.Run] {
				continue
			}
			seen[d.Run] = true
			if err := fn(d); err != nil {
				return err
			}
		}
	}
	if err := scur.Err(); err != nil {
		return fmt.Errorf("read result index of %s: %w", uid, err)
	}
	return nil
}

// DeleteSegments removes the segments of campaign object uid.
func DeleteSegments(ctx context.Context, db *mongo.Database, uid string) error {
	for _, coll := range segmentCollections {
		if _, err := db.Collection(coll).DeleteMany(ctx, bson.M{"uid": uid}); err != nil {
			return fmt.Errorf("remove result index segments of %s: %w", uid, err)
		}
	}
	return nil
}
