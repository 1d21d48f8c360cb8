package runlist

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// A list of 200,000 runs round-trips through a MongoDB-wire server: one
// small record, the runs in a file, read back in order; a list whose file
// disagrees with its record is an error, not a shorter campaign.
func TestSaveAndReadLargeList(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
	runs := make([]oppcli.RunInfo, n)
	for i := range runs {
		runs[i] = oppcli.RunInfo{Number: 2 * i, Vars: fmt.Sprintf("$numHosts=%d, $app=\"a\tb\", $repetition=%d", i/10, i%10)}
	}
	id := ID("k", QueryOf(api.SimulationSpec{Program: []string{"./aloha"}, Runs: "$numHosts>1"}))
	if err := Save(ctx, db, id, "k", runs); err != nil {
		t.Fatal(err)
	}
	raw, err := db.Collection(Coll).FindOne(ctx, bson.M{"_id": id}).Raw()
	if err != nil || len(raw) > 1024 {
		t.Fatalf("record of %d bytes, %v", len(raw), err)
	}
	rec, err := Get(ctx, db, id)
	if err != nil || rec == nil || rec.Count != n {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	nums, err := Numbers(ctx, db, rec)
	if err != nil || len(nums) != n || nums[n-1] != 2*(n-1) || !slices.IsSorted(nums) {
		t.Fatalf("Numbers: %d, %v", len(nums), err)
	}
	got, err := Runs(ctx, db, rec)
	if err != nil || got[7].Vars != `$numHosts=0, $app="a b", $repetition=7` {
		t.Fatalf("Runs[7] = %+v, %v", got[7], err)
	}
	rec.Count = n + 1
	if _, err := Numbers(ctx, db, rec); err == nil || !strings.Contains(err.Error(), "its record says 200001") {
		t.Fatalf("count mismatch: %v", err)
	}
	if r, err := Get(ctx, db, "none"); r != nil || err != nil {
		t.Fatalf("missing list: %+v, %v", r, err)
	}
	if err := SaveFailure(ctx, db, id, "k", "<!> Error: Run number 99 is out of range"); err != nil {
		t.Fatal(err)
	}
	if rec, _ := Get(ctx, db, id); rec.State != StateFailed || !strings.Contains(rec.Error, "out of range") {
		t.Fatalf("failure: %+v", rec)
	}
}

// Identities travel with the list, one per run; a list saved without them
// reads back as none, and an identity that is not one is an error.
func TestIdentitiesRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	runs := []oppcli.RunInfo{{Number: 0, Vars: "$a=1, $repetition=0"}, {Number: 3, Vars: "$a=2, $repetition=0"}}
	ids := []string{strings.Repeat("ab", 32), strings.Repeat("cd", 32)}
	if err := SaveIdentified(ctx, db, "with", "k", runs, ids, ""); err != nil {
		t.Fatal(err)
	}
	rec, _ := Get(ctx, db, "with")
	x, err := ReadIdentities(ctx, db, rec)
	if err != nil || x.Len() != 2 {
		t.Fatalf("%v %v", x, err)
	}
	if id, ok := x.Of(3); !ok || id != ids[1] {
		t.Fatalf("run 3: %q %v", id, ok)
	}
	if _, ok := x.Of(1); ok {
		t.Fatal("run 1 is not listed")
	}
	if got, err := Runs(ctx, db, rec); err != nil || got[1].Vars != runs[1].Vars {
		t.Fatalf("the identity leaked into the variables: %+v %v", got, err)
	}
	if err := SaveIdentified(ctx, db, "without", "k", runs, nil, "no -q runconfig"); err != nil {
		t.Fatal(err)
	}
	rec, _ = Get(ctx, db, "without")
	if x, err := ReadIdentities(ctx, db, rec); x != nil || err != nil || rec.IdentityError != "no -q runconfig" {
		t.Fatalf("%v %v %+v", x, err, rec)
	}
	if err := SaveIdentified(ctx, db, "bad", "k", runs, []string{"x", "y"}, ""); err != nil {
		t.Fatal(err)
	}
	rec, _ = Get(ctx, db, "bad")
	if _, err := ReadIdentities(ctx, db, rec); err == nil || !strings.Contains(err.Error(), "run 0 has no identity") {
		t.Fatalf("bad identities: %v", err)
	}
}

// Writing a list's lines allocates nothing per run: the builder writes a
// million of them before a million-run campaign's first record (building
// a replacer per line was a quarter of a second of it).
func TestWritingLinesAllocatesNothingPerRun(t *testing.T) {
	runs := make([]oppcli.RunInfo, 1000)
	ids := make([]string, len(runs))
	for i := range runs {
		runs[i] = oppcli.RunInfo{Number: i, Vars: fmt.Sprintf("$numHosts=%d, $repetition=%d", i/10, i%10)}
		ids[i] = strings.Repeat("ab", 32)
	}
	var b strings.Builder
	b.Grow(1 << 20)
	allocs := testing.AllocsPerRun(5, func() {
		b.Reset()
		b.Grow(1 << 20)
		if err := writeLines(&b, runs, ids); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 20 {
		t.Fatalf("%.0f allocations to write %d runs' lines", allocs, len(runs))
	}
	var one strings.Builder
	if err := writeLines(&one, []oppcli.RunInfo{{Number: 7, Vars: "$a=\"x\ty\nz\""}}, []string{"id"}); err != nil {
		t.Fatal(err)
	}
	if got, want := one.String(), "7\t$a=\"x y z\"\tid\n"; got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
}

// A list is stored compressed: a million-run list's lines are about 8 MB,
// which the builder uploads and the controller reads back before the
// campaign's first record. A list that an older builder stored as plain
// lines still reads, and one that holds more lines than its record says is
// refused without reading them all.
func TestListsAreStoredCompressedAndOldOnesStillRead(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	runs := make([]oppcli.RunInfo, n)
	for i := range runs {
		runs[i] = oppcli.RunInfo{Number: i}
	}
	if err := Save(ctx, db, "new", "k", runs); err != nil {
		t.Fatal(err)
	}
	rec, _ := Get(ctx, db, "new")
	var f struct {
		Length int64 `bson:"length"`
	}
	if err := db.Collection(Bucket+".files").FindOne(ctx, bson.M{"_id": rec.FileID}).Decode(&f); err != nil {
		t.Fatal(err)
	}
	var plain strings.Builder
	if err := writeLines(&plain, runs, nil); err != nil {
		t.Fatal(err)
	}
	if f.Length*2 > int64(plain.Len()) {
		t.Fatalf("the stored list takes %d bytes, its lines %d", f.Length, plain.Len())
	}
	if nums, err := Numbers(ctx, db, rec); err != nil || len(nums) != n || nums[n-1] != n-1 {
		t.Fatalf("Numbers: %d, %v", len(nums), err)
	}

	// As an older builder stored it: plain lines, no encoding on the record.
	up, err := gridfs.Upload(ctx, db, Bucket, fileName("old"), strings.NewReader(plain.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := &Record{ID: "old", BuildKey: "k", State: StateSucceeded, Count: n, FileID: up.ID}
	if nums, err := Numbers(ctx, db, old); err != nil || len(nums) != n || nums[n-1] != n-1 {
		t.Fatalf("Numbers of a plain list: %d, %v", len(nums), err)
	}
	old.Count = 10
	if _, err := Numbers(ctx, db, old); err == nil || !strings.Contains(err.Error(), "more than the 10 runs its record says") {
		t.Fatalf("a list longer than its record: %v", err)
	}
}

// A list stored as it is listed (Writer) has no record until Commit: a
// list aborted, or left by a builder that died while the program was
// still listing, is never read, not even as a shorter list; the next
// attempt replaces what it uploaded, and its record counts the whole list.
func TestAListStoredAsItIsListedIsReadOnlyWhole(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 300_000 // more than one upload insert of compressed lines
	add := func(w *Writer, k int) {
		for i := range k {
			w.Add(oppcli.RunInfo{Number: i, Vars: fmt.Sprintf("$x=%d, $repetition=0", i)})
		}
	}
	files := func() int64 {
		k, err := db.Collection(Bucket+".files").CountDocuments(ctx, bson.M{"filename": fileName("l")})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	w, err := Create(ctx, db, "l", "k")
	if err != nil {
		t.Fatal(err)
	}
	add(w, n/2)
	w.Abort()
	if rec, err := Get(ctx, db, "l"); rec != nil || err != nil {
		t.Fatalf("an aborted list has a record: %+v, %v", rec, err)
	}
	if k := files(); k != 0 {
		t.Fatalf("an aborted list left %d files", k)
	}
	// A builder that dies half-way: added to, never committed nor aborted.
	dctx, die := context.WithCancel(ctx)
	w, err = Create(dctx, db, "l", "k")
	if err != nil {
		t.Fatal(err)
	}
	add(w, n/2)
	die()
	if rec, err := Get(ctx, db, "l"); rec != nil || err != nil {
		t.Fatalf("a list whose builder died has a record: %+v, %v", rec, err)
	}
	// The next attempt lists it whole.
	w, err = Create(ctx, db, "l", "k")
	if err != nil {
		t.Fatal(err)
	}
	add(w, n)
	if err := w.Commit(ctx, "no identities"); err != nil {
		t.Fatal(err)
	}
	rec, err := Get(ctx, db, "l")
	if err != nil || rec == nil || rec.Count != n || rec.State != StateSucceeded || rec.Identified || rec.IdentityError != "no identities" {
		t.Fatalf("record %+v, %v", rec, err)
	}
	got, err := Runs(ctx, db, rec)
	if err != nil || len(got) != n || got[n-1] != (oppcli.RunInfo{Number: n - 1, Vars: fmt.Sprintf("$x=%d, $repetition=0", n-1)}) {
		t.Fatalf("read %d runs back, %v", len(got), err)
	}
	if k := files(); k != 1 {
		t.Fatalf("%d files under the list's name, want 1", k)
	}
}

// A list whose runs are 0..N-1, every one (a config's whole list), says
// so in its record, and its numbers are known from the record alone: the
// controller read a million lines before a million-run campaign's first
// record. A list with gaps, and one an older builder stored without the
// mark, are read from the file as before.
func TestADenseListIsNumberedFromItsRecord(t *testing.T) {
	ctx := context.Background()
	_, db, err := schema.Connect(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	dense := make([]oppcli.RunInfo, n)
	sparse := make([]oppcli.RunInfo, n)
	for i := range dense {
		dense[i] = oppcli.RunInfo{Number: i}
		sparse[i] = oppcli.RunInfo{Number: i + i/1000} // a gap every 1,000 runs
	}
	if err := Save(ctx, db, "dense", "k", dense); err != nil {
		t.Fatal(err)
	}
	if err := Save(ctx, db, "sparse", "k", sparse); err != nil {
		t.Fatal(err)
	}
	d, _ := Get(ctx, db, "dense")
	s, _ := Get(ctx, db, "sparse")
	if !d.Dense || s.Dense {
		t.Fatalf("dense %v, sparse %v", d.Dense, s.Dense)
	}
	// The files gone: the dense list's numbers are the record's.
	if _, err := db.Collection(Bucket+".chunks").DeleteMany(ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	nums, err := Numbers(ctx, db, d)
	if err != nil || len(nums) != n || nums[0] != 0 || nums[n-1] != n-1 || !slices.IsSorted(nums) {
		t.Fatalf("dense: %d numbers, %v", len(nums), err)
	}
	if _, err := Numbers(ctx, db, s); err == nil {
		t.Fatal("the sparse list was numbered without its file")
	}
	// Read from the file: a list without the mark (an older builder's).
	if err := Save(ctx, db, "old", "k", dense); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(Coll).UpdateOne(ctx, bson.M{"_id": "old"}, bson.M{"$unset": bson.M{"dense": ""}}); err != nil {
		t.Fatal(err)
	}
	o, _ := Get(ctx, db, "old")
	if nums, err := Numbers(ctx, db, o); o.Dense || err != nil || len(nums) != n || nums[n-1] != n-1 {
		t.Fatalf("old: dense %v, %d numbers, %v", o.Dense, len(nums), err)
	}
	if _, err := db.Collection(Bucket+".chunks").DeleteMany(ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Numbers(ctx, db, o); err == nil {
		t.Fatal("the old list was numbered without its file")
	}
}
