package builder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/jobs"
	"github.com/simswarm/simswarm/workers/tarball"
)

func db(t *testing.T) *mongo.Database {
	t.Helper()
	_, d, err := jobs.Connect(context.Background(), testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func buildTask(key string, src api.SourceSpec, b api.BuildSpec) *asynq.Task {
	p, _ := json.Marshal(jobs.BuildTask{Campaign: "c", UID: "u", Key: key, Source: src, Build: b})
	return asynq.NewTask(jobs.TypeBuild, p)
}

func buildRecord(t *testing.T, d *mongo.Database, key string) jobs.BuildRecord {
	t.Helper()
	var r jobs.BuildRecord
	if err := d.Collection(jobs.CollBuilds).FindOne(context.Background(), bson.M{"_id": key}).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGitBuildStoresArtifactsThenCacheHits builds a pinned commit of a git
// repository (not the newer HEAD), stores the declared artifacts, and does
// not run the build again for the same key.
func TestGitBuildStoresArtifactsThenCacheHits(t *testing.T) {
	d := db(t)
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.WriteFile(filepath.Join(repo, "Makefile"), []byte("model:\n\techo built-$$(cat version) > model\n\techo $$MAKEFLAGS > makeflags\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "version"), []byte("one"), 0o644)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "one")
	commit := git(t, repo, "rev-parse", "HEAD")
	os.WriteFile(filepath.Join(repo, "version"), []byte("two"), 0o644)
	git(t, repo, "commit", "-qam", "two")

	marker := filepath.Join(t.TempDir(), "ran")
	spec := api.BuildSpec{Command: []string{"sh", "-c", "touch " + marker + " && make"}, Artifacts: []string{"model", "makeflags"}}
	h := &Handler{DB: d, WorkDir: t.TempDir(), Jobs: 3, Worker: "b"}
	key := "k1"
	src := api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: commit}}
	if err := h.ProcessTask(context.Background(), buildTask(key, src, spec)); err != nil {
		t.Fatal(err)
	}
	r := buildRecord(t, d, key)
	if r.State != jobs.BuildSucceeded || r.SHA256 == "" {
		t.Fatalf("record %+v", r)
	}
	out := t.TempDir()
	stream, err := d.GridFSBucket(options.GridFSBucket().SetName(jobs.BucketArtifacts)).OpenDownloadStreamByName(context.Background(), jobs.ArtifactName(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.Extract(stream, out, tarball.DefaultLimit); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	if b, _ := os.ReadFile(filepath.Join(out, "model")); string(b) != "built-one\n" {
		t.Fatalf("artifact %q: not built from the pinned commit", b)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "makeflags")); !strings.Contains(string(b), "-j3") {
		t.Fatalf("MAKEFLAGS %q lacks -j3", b)
	}
	if _, err := os.Stat(filepath.Join(out, "version")); err == nil {
		t.Fatal("undeclared file packed")
	}
	os.Remove(marker)
	if err := h.ProcessTask(context.Background(), buildTask(key, src, spec)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the same key was built again")
	}
}

func TestUnsafeSourceArchiveFailsTheBuild(t *testing.T) {
	d := db(t)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "../../evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	gz.Close()
	b := d.GridFSBucket(options.GridFSBucket().SetName(jobs.BucketSources))
	if _, err := b.UploadFromStream(context.Background(), jobs.SourceName("abc"), &buf); err != nil {
		t.Fatal(err)
	}
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b"}
	err := h.ProcessTask(context.Background(), buildTask("k2", api.SourceSpec{Archive: "abc"}, api.BuildSpec{Command: []string{"true"}}))
	if err != nil {
		t.Fatalf("a bad archive is the campaign's problem, not the queue's: %v", err)
	}
	if r := buildRecord(t, d, "k2"); r.State != jobs.BuildFailed || !strings.Contains(r.LogTail, "leaves the archive") {
		t.Fatalf("record %+v", r)
	}
	// A missing archive and a failing command are recorded the same way.
	h.ProcessTask(context.Background(), buildTask("k3", api.SourceSpec{Archive: "nope"}, api.BuildSpec{Command: []string{"true"}}))
	if r := buildRecord(t, d, "k3"); r.State != jobs.BuildFailed || !strings.Contains(r.LogTail, "never uploaded") {
		t.Fatalf("record %+v", r)
	}
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.WriteFile(filepath.Join(repo, "f"), []byte("x"), 0o644)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "x")
	h.ProcessTask(context.Background(), buildTask("k4", api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}},
		api.BuildSpec{Command: []string{"sh", "-c", "echo compiler says no >&2; exit 2"}}))
	if r := buildRecord(t, d, "k4"); r.State != jobs.BuildFailed || !strings.Contains(r.LogTail, "compiler says no") {
		t.Fatalf("record %+v", r)
	}
}
