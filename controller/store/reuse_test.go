package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// storeDonor records run of (campaign, uid) as a runner would: its files
// uploaded, its completion, its Succeeded record with the identity.
func storeDonor(t *testing.T, s *Store, campaign, uid string, run int, identity string, files map[string][]byte) schema.RunRecord {
	t.Helper()
	ctx := context.Background()
	var rfs []schema.ResultFile
	for name, data := range files {
		up, err := gridfs.Upload(ctx, s.DB, schema.BucketResults, schema.ResultName(campaign, uid, run, name), bytes.NewReader(data),
			bson.M{"campaign": campaign, "uid": uid, "run": run, "attempt": 1, "name": name})
		if err != nil {
			t.Fatal(err)
		}
		rfs = append(rfs, schema.ResultFile{Name: name, Size: up.Size, SHA256: up.SHA256, FileID: up.ID})
	}
	id := RunID(campaign, uid, run)
	if _, err := s.DB.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: id, Campaign: campaign, UID: uid, Attempt: 1, Files: rfs}); err != nil {
		t.Fatal(err)
	}
	rec := schema.RunRecord{ID: id, Campaign: campaign, UID: uid, Run: run, State: schema.RunSucceeded, Attempts: 1, Files: rfs,
		DurationMS: 1234, Identity: identity}
	if _, err := s.DB.Collection(collRuns).InsertOne(ctx, rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func readAll(t *testing.T, s *Store, id any) []byte {
	t.Helper()
	r, err := gridfs.OpenByID(context.Background(), s.DB, schema.BucketResults, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A reused run gets copies of the stored run's files, checked by sha256,
// its own completion, result index document and Succeeded record naming
// where they came from; the copies survive a purge of the campaign they
// came from; doing it twice leaves one set of copies; a stored run whose
// files are gone is not reused; counts say how many runs were reused.
func TestStoreReusedCopiesAndSurvivesThePrune(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	sca, err := os.ReadFile("../../workers/scafile/testdata/aloha.sca")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"results/a.sca": sca, "results/a.vec": bytes.Repeat([]byte("vector 0 x y\n"), 50000)}
	donor := storeDonor(t, s, "first", "u1", 3, "id-3", files)
	storeDonor(t, s, "first", "u1", 4, "id-4", map[string][]byte{"results/b.sca": sca})
	if _, err := s.CreateRunsIdentified(ctx, "second", "u2", []int{5, 6, 7}, []string{"id-3", "id-x", "id-4"}); err != nil {
		t.Fatal(err)
	}

	found, err := s.ReusableRuns(ctx, "u2", []string{"id-3", "id-x", "id-4"})
	if err != nil || len(found) != 2 || found["id-3"].Run != 3 || found["id-4"].Run != 4 {
		t.Fatalf("found %+v, %v", found, err)
	}
	if own, _ := s.ReusableRuns(ctx, "u1", []string{"id-3"}); len(own) != 0 {
		t.Fatal("a campaign reuses its own runs")
	}
	for range 2 { // the second time finds everything done
		rec, err := s.StoreReused(ctx, "second", "u2", 5, "id-3", found["id-3"])
		if err != nil {
			t.Fatal(err)
		}
		if rec.ReusedFrom == nil || *rec.ReusedFrom != (schema.ReusedFrom{Campaign: "first", UID: "u1", Run: 3}) {
			t.Fatalf("record %+v", rec)
		}
	}
	var got schema.RunRecord
	if err := s.DB.Collection(collRuns).FindOne(ctx, bson.M{"_id": RunID("second", "u2", 5)}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.State != schema.RunSucceeded || got.Identity != "id-3" || got.ReusedFrom == nil || got.ReusedFrom.Run != 3 ||
		len(got.Files) != 2 || got.DurationMS != donor.DurationMS || got.ResultIndex == nil || got.ResultIndex.Values == 0 || got.ResultIndex.Error != "" {
		t.Fatalf("record %+v", got)
	}
	for _, f := range got.Files {
		if f.FileID == nil || !bytes.Equal(readAll(t, s, f.FileID), files[f.Name]) {
			t.Fatalf("copy of %s differs", f.Name)
		}
		for _, d := range donor.Files {
			if d.Name == f.Name && (d.SHA256 != f.SHA256 || d.FileID == f.FileID) {
				t.Fatalf("%s: copy %+v of %+v", f.Name, f, d)
			}
		}
	}
	if n, _ := s.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{"metadata.uid": "u2"}); n != 2 {
		t.Fatalf("%d copies stored, want 2", n)
	}
	var idx resultindex.Doc
	if err := s.DB.Collection(resultindex.Collection).FindOne(ctx, bson.M{"_id": RunID("second", "u2", 5)}).Decode(&idx); err != nil || idx.UID != "u2" || len(idx.Values) == 0 {
		t.Fatalf("index document %+v, %v", idx, err)
	}

	counts, err := s.RunCounts(ctx, "second", "u2")
	if err != nil || counts.Succeeded != 1 || counts.Reused != 1 || counts.Pending != 2 || counts.Total != 3 {
		t.Fatalf("counts %+v, %v", counts, err)
	}

	// Purge the first campaign's results: the copies stay.
	if err := s.KeepResults(ctx, "first", "u1", s.now()); err != nil {
		t.Fatal(err)
	}
	for {
		done, err := s.PruneBatch(ctx, "u1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	if n, _ := s.DB.Collection(schema.BucketResults+".files").CountDocuments(ctx, bson.M{"metadata.uid": "u1"}); n != 0 {
		t.Fatalf("the prune left %d files of the first campaign", n)
	}
	for _, f := range got.Files {
		if !bytes.Equal(readAll(t, s, f.FileID), files[f.Name]) {
			t.Fatalf("%s changed after the prune", f.Name)
		}
	}
	// Run 4's files went with the prune: its record (still there, as a
	// deleted campaign's records may be until removed) is no donor.
	if _, err := s.StoreReused(ctx, "second", "u2", 7, "id-4", found["id-4"]); !errors.Is(err, ErrDonorGone) {
		t.Fatalf("reusing a pruned run: %v", err)
	}
	var r7 schema.RunRecord
	if err := s.DB.Collection(collRuns).FindOne(ctx, bson.M{"_id": RunID("second", "u2", 7)}).Decode(&r7); err != nil || r7.State != schema.RunPending {
		t.Fatalf("run 7 after a failed reuse: %+v, %v", r7, err)
	}
}
