package manifests

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/controller/store"
)

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestGitSourceAppliesCommitsAndRecordsRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git not installed")
	}
	st := openStore(t)
	ctx := context.Background()
	repo := t.TempDir()
	run(t, repo, "git", "init", "--quiet", "-b", "main")
	os.MkdirAll(filepath.Join(repo, "campaigns"), 0o755)
	write(t, filepath.Join(repo, "campaigns"), "a.json", "a", 1)
	write(t, filepath.Join(repo, "campaigns"), "b.json", "b", 1)
	run(t, repo, "git", "add", ".")
	run(t, repo, "git", "commit", "--quiet", "-m", "add a and b")
	rev1 := run(t, repo, "git", "rev-parse", "HEAD")

	g := &GitSource{URL: repo, Ref: "main", SubDir: "campaigns", Prune: true, Load: loadJSON, WorkDir: t.TempDir()}
	if err := g.Sync(ctx, st, func(string) {}); err != nil {
		t.Fatal(err)
	}
	a, err := st.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Metadata.Annotations[AnnotationRevision] != rev1 {
		t.Fatalf("revision = %q, want %s", a.Metadata.Annotations[AnnotationRevision], rev1)
	}

	// Change a, remove b, commit: applied and pruned at the new revision.
	write(t, filepath.Join(repo, "campaigns"), "a.json", "a", 9)
	run(t, repo, "git", "rm", "--quiet", "campaigns/b.json")
	run(t, repo, "git", "commit", "--quiet", "-am", "change a, drop b")
	rev2 := run(t, repo, "git", "rev-parse", "HEAD")
	if err := g.Sync(ctx, st, func(string) {}); err != nil {
		t.Fatal(err)
	}
	a, _ = st.Get(ctx, "a")
	if a.Spec.Priority != 9 || a.Metadata.Annotations[AnnotationRevision] != rev2 {
		t.Fatalf("after second commit: priority %d revision %s (want 9, %s)", a.Spec.Priority, a.Metadata.Annotations[AnnotationRevision], rev2)
	}
	if b, err := st.Get(ctx, "b"); !errors.Is(err, store.ErrNotFound) && (err != nil || b.Metadata.DeletionTimestamp == nil) {
		t.Fatalf("b not pruned (deleted) after its file was removed from git: %v", err)
	}

	// A failed fetch changes nothing.
	bad := &GitSource{URL: filepath.Join(repo, "missing"), Ref: "main", Prune: true, Load: loadJSON, WorkDir: g.WorkDir}
	if err := bad.Sync(ctx, st, func(string) {}); err == nil {
		t.Fatal("fetch of a missing repository succeeded")
	}
	if _, err := st.Get(ctx, "a"); err != nil {
		t.Fatalf("failed fetch pruned campaigns: %v", err)
	}
}
