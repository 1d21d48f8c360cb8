package manifests

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/controller/store"
)

// A Dir without a Load of its own reads manifests with package api: an
// invalid one is refused with its field named, never applied unchecked.
func TestDirWithoutLoaderValidatesWithPackageAPI(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	good := "apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: good}\n" +
		"spec:\n  source: {git: {url: https://example.com/m.git, commit: main}}\n  simulation: {program: [./aloha], runs: 0..1}\n"
	bad := strings.Replace(strings.Replace(good, "name: good", "name: bad", 1), "runs: 0..1", "runs: 5..2", 1)
	for f, s := range map[string]string{"good.yaml": good, "bad.yaml": bad} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := &Dir{Path: dir}
	d.Sync(ctx, st, func(string) {})
	g, err := st.Get(ctx, "good")
	if err != nil {
		t.Fatalf("valid manifest not applied: %v", err)
	}
	if g.Spec.Build.Command == nil || len(g.Spec.Results) == 0 {
		t.Fatalf("applied without api's defaults: %+v", g.Spec)
	}
	if _, err := st.Get(ctx, "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invalid manifest applied (%v)", err)
	}
	if err := d.Errors()["bad.yaml"]; err == nil || !strings.Contains(err.Error(), "spec.simulation.runs") {
		t.Fatalf("error of bad.yaml = %v, want it to name spec.simulation.runs", err)
	}
}
