package manifests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
)

// loadJSON is the tests' stand-in for api.LoadFile: one strict JSON
// Campaign per file, a name and a program required.
func loadJSON(path string) ([]*api.Campaign, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c api.Campaign
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c.Metadata.Name == "" || len(c.Spec.Simulation.Program) == 0 {
		return nil, errors.New("spec.simulation.program: required")
	}
	return []*api.Campaign{&c}, nil
}

func write(t *testing.T, dir, file, name string, priority int32) {
	t.Helper()
	c := api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Priority: priority, Source: api.SourceSpec{Archive: "x"},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Runs: "0..1"}}}
	b, _ := json.Marshal(c)
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

func TestDirectorySyncAppliesRevertsReportsAndPrunes(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	write(t, dir, "a.json", "a", 1)
	write(t, dir, "b.json", "b", 1)
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("ignored"), 0o644); err != nil {
		t.Fatal(err)
	}
	var notified []string
	d := &Dir{Path: dir, Prune: true, Load: loadJSON}
	sync := func() { d.Sync(ctx, st, func(n string) { notified = append(notified, n) }) }
	sync()
	a, err := st.Get(ctx, "a")
	if err != nil {
		t.Fatalf("a not applied (a broken sibling must not block it): %v", err)
	}
	if a.Metadata.Labels[LabelManagedBy] != ManagedByValue || a.Metadata.Annotations[AnnotationFile] != "a.json" {
		t.Fatalf("ownership not recorded: %+v", a.Metadata)
	}
	if _, err := st.Get(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if errs := d.Errors(); errs["broken.yaml"] == nil || len(errs) != 1 {
		t.Fatalf("per-file errors = %v", errs)
	}
	if len(notified) == 0 {
		t.Fatal("reconciler not notified")
	}

	// Changing the file changes the campaign.
	write(t, dir, "a.json", "a", 7)
	sync()
	a, _ = st.Get(ctx, "a")
	if a.Spec.Priority != 7 || a.Metadata.Generation != 2 {
		t.Fatalf("file change not applied: prio %d gen %d", a.Spec.Priority, a.Metadata.Generation)
	}

	// An API edit of an owned campaign is reverted.
	a.Spec.Suspend = true
	if _, err := st.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	sync()
	a, _ = st.Get(ctx, "a")
	if a.Spec.Suspend {
		t.Fatal("API edit of a managed campaign not reverted")
	}

	// A campaign created through the API is not touched by pruning.
	if _, err := st.Create(ctx, &api.Campaign{Metadata: api.ObjectMeta{Name: "mine"}}); err != nil {
		t.Fatal(err)
	}
	// Removing a file prunes its campaign.
	if err := os.Remove(filepath.Join(dir, "b.json")); err != nil {
		t.Fatal(err)
	}
	sync()
	if c, err := st.Get(ctx, "b"); !errors.Is(err, store.ErrNotFound) && (err != nil || c.Metadata.DeletionTimestamp == nil) {
		t.Fatalf("b not pruned: %v", err)
	}
	if _, err := st.Get(ctx, "mine"); err != nil {
		t.Fatalf("unmanaged campaign pruned: %v", err)
	}
	// A file turning invalid keeps its campaign (no prune on errors).
	if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	sync()
	if _, err := st.Get(ctx, "a"); err != nil {
		t.Fatalf("campaign of a temporarily broken file was pruned: %v", err)
	}
}

func TestDirectoryWatchAppliesNewFiles(t *testing.T) {
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	d := &Dir{Path: dir, Prune: true, Load: loadJSON, Resync: time.Hour}
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, st, func(string) {}) }()
	time.Sleep(50 * time.Millisecond) // not needed for correctness: the poll below waits
	write(t, dir, "new.json", "new", 0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := st.Get(context.Background(), "new"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("new manifest file not applied by the watcher")
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.Remove(filepath.Join(dir, "new.json"))
	for {
		if c, err := st.Get(context.Background(), "new"); errors.Is(err, store.ErrNotFound) || err == nil && c.Metadata.DeletionTimestamp != nil {
			break // deleted (the reconciler removes it)
		}
		if time.Now().After(deadline) {
			t.Fatal("removed manifest file not pruned by the watcher")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDirectoryPacksSourcePathsInsideTheTreeOnly(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "model"), 0o755)
	os.WriteFile(filepath.Join(dir, "model", "Makefile"), []byte("all:\n"), 0o644)
	manifest := func(name, path string) []byte {
		c := api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
			Metadata: api.ObjectMeta{Name: name},
			Spec: api.CampaignSpec{Source: api.SourceSpec{Path: path},
				Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Runs: "0..1"}}}
		b, _ := json.Marshal(c)
		return b
	}
	os.WriteFile(filepath.Join(dir, "good.json"), manifest("good", "model"), 0o644)
	os.WriteFile(filepath.Join(dir, "escape.json"), manifest("escape", "../.."), 0o644)
	d := &Dir{Path: dir, Load: loadJSON}
	d.Sync(ctx, st, func(string) {})
	good, err := st.Get(ctx, "good")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.HasSource(ctx, good.Spec.Source.Archive); !ok || len(good.Spec.Source.Archive) != 64 {
		t.Fatalf("source of %q not packed and stored: archive %q", "good", good.Spec.Source.Archive)
	}
	if _, err := st.Get(ctx, "escape"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("campaign with a source outside the tree applied: %v", err)
	}
	if e := d.Errors()["escape.json"]; e == nil || !strings.Contains(e.Error(), "outside the manifest tree") {
		t.Fatalf("escape not reported: %v", d.Errors())
	}
}
