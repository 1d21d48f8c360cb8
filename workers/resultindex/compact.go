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

// SegmentCollection holds compacted runs: segments of up to SegmentRuns
// runs (and about segmentBytes) of one campaign object each.
const SegmentCollection = "resultsegments"

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
	sort.Slice(docs, func(i, j int) bool { return docs[i].Run < docs[j].Run })
	for start := 0; start < len(docs); {
		end, size := start, 0
		for end < len(docs) && end-start < SegmentRuns && (end == start || size+segmentSize(docs[end]) <= segmentBytes) {
			size += segmentSize(docs[end])
			end++
		}
		if err := writeSegment(ctx, db, uid, docs[start:end]); err != nil {
			return 0, err
		}
		start = end
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
	return len(docs), nil
}

func writeSegment(ctx context.Context, db *mongo.Database, uid string, docs []*Doc) error {
	h := sha256.New()
	var b [16]byte
	for _, d := range docs {
		binary.LittleEndian.PutUint64(b[:8], uint64(d.Run))
		binary.LittleEndian.PutUint64(b[8:], uint64(d.Attempt))
		h.Write(b[:])
	}
	seg := segmentDoc{ID: uid + "/" + hex.EncodeToString(h.Sum(nil)[:12]), Campaign: docs[0].Campaign, UID: uid,
		Runs: len(docs), Data: encodeSegment(docs)}
	_, err := db.Collection(SegmentCollection).InsertOne(ctx, seg)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("compact result index of %s: write segment: %w", uid, err)
	}
	return nil
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
	scur, err := db.Collection(SegmentCollection).Find(ctx, bson.M{"uid": uid})
	if err != nil {
		return 0, fmt.Errorf("read result index of %s: %w", uid, err)
	}
	defer scur.Close(ctx)
	for scur.Next(ctx) {
		var seg segmentDoc
		if err := scur.Decode(&seg); err != nil {
			return 0, fmt.Errorf("read result index of %s: %w", uid, err)
		}
		docs, err := decodeSegment(seg.Data, seg.Campaign, seg.UID, keep)
		if err != nil {
			return 0, fmt.Errorf("read result index of %s: segment %s: %w", uid, seg.ID, err)
		}
		for _, d := range docs {
			if seen[d.Run] {
				continue
			}
			seen[d.Run] = true
			if err := fn(d); err != nil {
				return 0, err
			}
		}
	}
	if err := scur.Err(); err != nil {
		return 0, fmt.Errorf("read result index of %s: %w", uid, err)
	}
	return loose, nil
}

// DeleteSegments removes the segments of campaign object uid.
func DeleteSegments(ctx context.Context, db *mongo.Database, uid string) error {
	if _, err := db.Collection(SegmentCollection).DeleteMany(ctx, bson.M{"uid": uid}); err != nil {
		return fmt.Errorf("remove result index segments of %s: %w", uid, err)
	}
	return nil
}
