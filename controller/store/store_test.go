package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

func open(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func campaign(name string) *api.Campaign {
	return &api.Campaign{
		TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: name, Labels: map[string]string{"team": "a"}},
		Spec: api.CampaignSpec{
			Source:     api.SourceSpec{Archive: "abc"},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAloha", Runs: "0..9"},
		},
	}
}

func TestCampaignGenerationAndResourceVersion(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c, err := s.Create(ctx, campaign("a"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Metadata.Generation != 1 || c.Metadata.ResourceVersion != "1" || c.Metadata.UID == "" {
		t.Fatalf("created metadata = %+v", c.Metadata)
	}
	if _, err := s.Create(ctx, campaign("a")); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}

	// Label change: new resourceVersion, same generation.
	c.Metadata.Labels["team"] = "b"
	c2, err := s.Update(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Metadata.Generation != 1 || c2.Metadata.ResourceVersion != "2" {
		t.Fatalf("after label change: gen %d rv %s, want 1 2", c2.Metadata.Generation, c2.Metadata.ResourceVersion)
	}
	// Stale copy: conflict, nothing written.
	c.Spec.Priority = 5
	if _, err := s.Update(ctx, c); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	// Spec change on the fresh copy: generation bumps.
	c2.Spec.Priority = 5
	c3, err := s.Update(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	if c3.Metadata.Generation != 2 || c3.Metadata.ResourceVersion != "3" || c3.Spec.Priority != 5 {
		t.Fatalf("after spec change: %+v prio %d", c3.Metadata, c3.Spec.Priority)
	}
	// Status write bumps resourceVersion, never generation, keeps the spec.
	if err := s.UpdateStatus(ctx, "a", c3.Metadata.UID, api.CampaignStatus{Phase: api.PhaseRunning, ObservedGeneration: 2}, 1); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata.Generation != 2 || got.Metadata.ResourceVersion != "4" || got.Status.Phase != api.PhaseRunning || got.Spec.Priority != 5 {
		t.Fatalf("after status: %+v %+v", got.Metadata, got.Status)
	}
	// Applying the identical object is a no-op.
	same, created, err := s.Apply(ctx, got)
	if err != nil || created || same.Metadata.ResourceVersion != "4" {
		t.Fatalf("no-op apply: created %v rv %s err %v", created, same.Metadata.ResourceVersion, err)
	}
	// Delete (marked, refusing changes, until the reconciler finishes it),
	// then re-create: new UID.
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if del, err := s.Get(ctx, "a"); err != nil || del.Metadata.DeletionTimestamp == nil {
		t.Fatalf("get while deleting: %+v %v", del, err)
	}
	if _, _, err := s.Apply(ctx, campaign("a")); !errors.Is(err, ErrDeleting) {
		t.Fatalf("apply while deleting: %v", err)
	}
	if err := s.FinishDelete(ctx, "a", c.Metadata.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	again, created, err := s.Apply(ctx, campaign("a"))
	if err != nil || !created || again.Metadata.UID == c.Metadata.UID {
		t.Fatalf("re-create: created %v uid %s (old %s) err %v", created, again.Metadata.UID, c.Metadata.UID, err)
	}
}

func TestStatusWritesAreFencedByEpoch(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	c, err := s.Create(ctx, campaign("f"))
	if err != nil {
		t.Fatal(err)
	}
	uid := c.Metadata.UID
	if err := s.UpdateStatus(ctx, "f", uid, api.CampaignStatus{Phase: "new-leader"}, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateStatus(ctx, "f", uid, api.CampaignStatus{Phase: "old-leader"}, 6); !errors.Is(err, ErrFenced) {
		t.Fatalf("deposed leader's write: %v, want ErrFenced", err)
	}
	if got, _ := s.Get(ctx, "f"); got.Status.Phase != "new-leader" {
		t.Fatalf("phase = %q: deposed leader overwrote", got.Status.Phase)
	}
	if err := s.UpdateStatus(ctx, "f", "other-uid", api.CampaignStatus{}, 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("write to re-created object: %v, want ErrNotFound", err)
	}
	if err := s.ClaimEpoch(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimEpoch(ctx, 5); !errors.Is(err, ErrFenced) {
		t.Fatalf("lower epoch claim: %v", err)
	}
	if e, _ := s.MaxEpoch(ctx); e != 7 {
		t.Fatalf("MaxEpoch = %d", e)
	}
}

func TestRunRecordsBulkCreateAndCounts(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const n = 5000
	runs := make([]int, n)
	for i := range runs {
		runs[i] = i
	}
	start := time.Now()
	ins, err := s.CreateRuns(ctx, "big", "u1", runs)
	took := time.Since(start)
	if err != nil || ins != n {
		t.Fatalf("CreateRuns = %d, %v", ins, err)
	}
	t.Logf("created %d run records in %v (%.0f/s)", n, took, n/took.Seconds())
	// Idempotent: nothing new.
	if ins, err := s.CreateRuns(ctx, "big", "u1", runs[:100]); err != nil || ins != 0 {
		t.Fatalf("re-create = %d, %v", ins, err)
	}
	if ok, err := s.SetRunState(ctx, RunID("big", "u1", 3), schema.RunPending, schema.RunQueued, ""); !ok || err != nil {
		t.Fatalf("SetRunState: %v %v", ok, err)
	}
	if ok, _ := s.SetRunState(ctx, RunID("big", "u1", 3), schema.RunPending, schema.RunQueued, ""); ok {
		t.Fatal("conditional state change applied twice")
	}
	c, err := s.RunCounts(ctx, "big", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != n || c.Queued != 1 || c.Pending != n-1 {
		t.Fatalf("counts = %+v", c)
	}
	page, err := s.Runs(ctx, RunQuery{Campaign: "big", UID: "u1", State: schema.RunPending, After: 1, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].Run != 2 || page[1].Run != 4 || page[2].Run != 5 {
		t.Fatalf("page = %+v", page)
	}
	names, err := s.RunCampaigns(ctx)
	if err != nil || len(names) != 1 || names[0] != "big" {
		t.Fatalf("RunCampaigns = %v %v", names, err)
	}
	if d, err := s.DeleteRuns(ctx, RunSelector{Campaign: "big", NotUID: "u1"}); err != nil || d != 0 {
		t.Fatalf("DeleteRuns keeping the live uid deleted %d (%v)", d, err)
	}
	if d, err := s.DeleteRuns(ctx, RunSelector{Campaign: "big"}); err != nil || d != n {
		t.Fatalf("DeleteRuns = %d, %v", d, err)
	}
}

func TestSourceArchiveStoredOnceByDigest(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("source"), 100000)
	for i := 0; i < 2; i++ {
		if err := s.PutSource(ctx, "d1", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := s.DB.Collection("sources.files").CountDocuments(ctx, map[string]any{})
	if n != 1 {
		t.Fatalf("%d source files stored, want 1", n)
	}
	r, err := s.OpenSource(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, data) {
		t.Fatal("source archive content differs")
	}
}
