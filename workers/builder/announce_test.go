package builder

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/runlist"
)

// TestEveryRunListIsAnnounced: the controller creates a campaign's first
// records in the pass that a build's announcement starts, so a run list
// listed from the stored artifact (a second campaign on a model built
// before, with another filter) is announced like a fresh build's, instead
// of waiting for the campaign's next poll.
func TestEveryRunListIsAnnounced(t *testing.T) {
	d := db(t)
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.WriteFile(filepath.Join(repo, "sim"), []byte(listSim), 0o755)
	os.WriteFile(filepath.Join(repo, "omnetpp.ini"), []byte("[General]\n"), 0o644)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "x")
	var mu sync.Mutex
	var said []string
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b", Changed: func(_ context.Context, msg string) {
		mu.Lock()
		defer mu.Unlock()
		said = append(said, msg)
	}}
	ctx := context.Background()
	list := func(campaign, runs string) {
		t.Helper()
		sim := api.SimulationSpec{Program: []string{"./sim"}, Runs: runs}
		p, _ := json.Marshal(schema.BuildTask{Campaign: campaign, UID: "u", Key: "k",
			Source: api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}},
			Build:  api.BuildSpec{Prebuilt: true}, Simulation: &sim})
		if err := h.ProcessTask(ctx, asynq.NewTask(schema.TypeBuild, p)); err != nil {
			t.Fatal(err)
		}
		if rec, err := runlist.Get(ctx, d, runlist.ID("k", runlist.QueryOf(sim))); err != nil || rec == nil {
			t.Fatalf("no run list for %s: %v", campaign, err)
		}
	}
	list("first", "")
	list("second", "$x==2")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{schema.BuildAnnouncement("first"), schema.BuildAnnouncement("second")}; !slices.Equal(said, want) {
		t.Fatalf("announced %q, want %q", said, want)
	}
}
