package resultindex

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

func openDB(t *testing.T) *mongo.Database {
	t.Helper()
	client, db, err := schema.Connect(context.Background(), testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return db
}

// scanned is every run Scan gives of uid, as text (its fields and sorted
// values), failing the test on a run given twice.
func scanned(t *testing.T, db *mongo.Database, uid string) []string {
	t.Helper()
	var out []string
	seen := map[int]bool{}
	if _, err := Scan(context.Background(), db, uid, nil, func(d *Doc) error {
		if seen[d.Run] {
			return fmt.Errorf("run %d given twice", d.Run)
		}
		seen[d.Run] = true
		out = append(out, fmt.Sprintf("%d %d %s %s %q %d %v %d %q", d.Run, d.Attempt, d.Config, d.Repetition, d.Error, d.Skipped, d.Itervars, d.Indexed, sortedValues(d.Values)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func count(t *testing.T, db *mongo.Database, coll, uid string) int {
	t.Helper()
	n, err := db.Collection(coll).CountDocuments(context.Background(), bson.M{"uid": uid})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

var errCrash = errors.New("crash")

// Merging small segments changes nothing Scan gives, wherever it is
// interrupted (as by a crash): after each of its writes (two merged
// segments, then the removal of each of MergeMin small ones), every run
// is read exactly once with its values; a merge run again afterwards
// finishes the work, and leaves fewer than MergeMin small segments. A run
// already in two small segments (a compaction repeated after a crash) is
// merged once.
func TestMergeInterruptedAnywhereLosesAndDoublesNothing(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	const perSegment = 300 // 16 of them: two merged segments (SegmentRuns 4096)
	build := func(uid string) {
		for s := range MergeMin {
			var docs []*Doc
			for r := s * perSegment; r < (s+1)*perSegment+min(s, 1)*3; r++ { // segments after the first repeat 3 runs of the next
				d := &Doc{Run: r, Attempt: 1 + r%2, Config: "C", Repetition: strconv.Itoa(r / 40), Itervars: []KV{{"n", strconv.Itoa(r % 40)}},
					Values: Values{{"Net.a", "x", float64(r) / 3}, {"Net.b", "y:mean", math.Sqrt(float64(r))}}}
				if r%101 == 0 {
					d.Error, d.Values = "a.sca: line 2: bad", Values{}
				}
				if r%7 == 0 {
					d.Values = append(d.Values, Value{"Net.a", "x", math.NaN()})
				}
				docs = append(docs, d)
			}
			if _, err := writeSegments(ctx, db, func(int, int) string { return SmallSegmentCollection }, uid, docs, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	build("ref")
	want := scanned(t, db, "ref")
	if len(want) != MergeMin*perSegment+3 {
		t.Fatalf("%d runs before merging", len(want))
	}
	for k := 1; ; k++ {
		uid := "u" + strconv.Itoa(k)
		build(uid)
		steps := 0
		n, err := merge(ctx, db, uid, func() error {
			steps++
			if steps == k {
				return errCrash
			}
			return nil
		})
		if got := scanned(t, db, uid); !slices.Equal(got, want) {
			t.Fatalf("interrupted after write %d: %d runs, want %d; first difference at %v", k, len(got), len(want), firstDiff(got, want))
		}
		if err == nil {
			if k != 2+MergeMin+1 || n != len(want) {
				t.Fatalf("merge ended after %d writes, merging %d runs, want %d and %d", k-1, n, 2+MergeMin, len(want))
			}
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		if _, err := Merge(ctx, db, uid); err != nil {
			t.Fatal(err)
		}
		if got := scanned(t, db, uid); !slices.Equal(got, want) {
			t.Fatalf("merged again after an interruption after write %d: %d runs, want %d; first difference at %v", k, len(got), len(want), firstDiff(got, want))
		}
		small, merged := count(t, db, SmallSegmentCollection, uid), count(t, db, SegmentCollection, uid)
		if small >= MergeMin || merged < 2 || merged > 4 {
			t.Fatalf("interrupted after write %d and merged again: %d small and %d merged segments", k, small, merged)
		}
	}
	if small, merged := count(t, db, SmallSegmentCollection, "ref"), count(t, db, SegmentCollection, "ref"); small != MergeMin || merged != 0 {
		t.Fatalf("ref has %d small and %d merged segments", small, merged)
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + "\n  want " + b[i]
		}
	}
	return strings.Join(nil, "")
}

// Runs written by the runners' Insert, in commits as small as theirs, end
// up in a bounded number of segments: fewer than MergeMin small ones, and
// merged ones of about SegmentRuns runs; Scan gives every run once.
func TestInsertKeepsTheSegmentsOfACampaignBounded(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	runs := (MergeMin + 8) * CompactMin
	for i := 0; i < runs; i += 4 {
		var docs []*Doc
		for r := i; r < i+4; r++ {
			docs = append(docs, &Doc{ID: schema.RunID("c", "u", r), Campaign: "c", UID: "u", Run: r, Attempt: 1,
				Itervars: []KV{}, Values: Values{{"m", "n", float64(r)}}})
		}
		if errs, err := Insert(ctx, db, docs); err != nil || slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
			t.Fatal(err, errs)
		}
	}
	got := scanned(t, db, "u")
	if len(got) != runs {
		t.Fatalf("%d runs scanned, want %d", len(got), runs)
	}
	loose, small, merged := count(t, db, Collection, "u"), count(t, db, SmallSegmentCollection, "u"), count(t, db, SegmentCollection, "u")
	t.Logf("%d runs: %d not compacted, %d small segments, %d merged", runs, loose, small, merged)
	if small >= MergeMin || merged < 1 || loose >= 2*CompactMin {
		t.Errorf("%d runs not compacted, %d small segments, %d merged: want fewer than %d, fewer than %d, at least 1", loose, small, merged, 2*CompactMin, MergeMin)
	}
}
