package resultindex

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Merge folds the small segments of campaign object uid (those compaction
// wrote), once there are at least MergeMin, into segments of
// SegmentCollection, so that a campaign object has a bounded number of
// segments however small the runners' commits are: at most MergeMin-1
// small ones, and one per about SegmentRuns runs. Compact calls it after
// each compaction. The merged segments are written first, then the small
// ones removed, one at a time: a crash between any two of these writes
// leaves every run in at least one segment, and a run in two (a small and
// a merged one, or two merged ones after a merge repeated with more
// segments) is read once by Scan, the merged copies holding the same run
// and attempt. A damaged small segment is an error naming it, and stays
// where it is. It reports how many runs it merged.
func Merge(ctx context.Context, db *mongo.Database, uid string) (int, error) {
	return merge(ctx, db, uid, nil)
}

// merge is Merge with step, when not nil, called after each write (of a
// merged segment, or a small segment's removal); its error stops the
// merge there, as a crash would.
func merge(ctx context.Context, db *mongo.Database, uid string, step func() error) (int, error) {
	small := db.Collection(SmallSegmentCollection)
	cur, err := small.Find(ctx, bson.M{"uid": uid})
	if err != nil {
		return 0, fmt.Errorf("merge result index segments of %s: %w", uid, err)
	}
	var segs []segmentDoc
	for cur.Next(ctx) {
		var seg segmentDoc
		if err := cur.Decode(&seg); err != nil {
			cur.Close(ctx)
			return 0, fmt.Errorf("merge result index segments of %s: %w", uid, err)
		}
		segs = append(segs, seg)
	}
	cur.Close(ctx)
	if err := cur.Err(); err != nil {
		return 0, fmt.Errorf("merge result index segments of %s: %w", uid, err)
	}
	if len(segs) < MergeMin {
		return 0, nil
	}
	seen := map[int]bool{}
	var docs []*Doc
	for _, seg := range segs {
		ds, err := decodeSegment(seg.Data, seg.Campaign, seg.UID, nil)
		if err != nil {
			return 0, fmt.Errorf("merge result index segments of %s: segment %s: %w", uid, seg.ID, err)
		}
		for _, d := range ds {
			if !seen[d.Run] {
				seen[d.Run] = true
				docs = append(docs, d)
			}
		}
	}
	if _, err := writeSegments(ctx, db, toMerged, uid, docs, step); err != nil {
		return 0, fmt.Errorf("merge result index segments of %s: %w", uid, err)
	}
	for _, seg := range segs {
		if _, err := small.DeleteOne(ctx, bson.M{"_id": seg.ID}); err != nil {
			return 0, fmt.Errorf("merge result index segments of %s: remove merged segment %s: %w", uid, seg.ID, err)
		}
		if step != nil {
			if err := step(); err != nil {
				return 0, err
			}
		}
	}
	return len(docs), nil
}
