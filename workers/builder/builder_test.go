package builder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/test/testproc"
	"github.com/simswarm/simswarm/workers/tarball"
)

func db(t *testing.T) *mongo.Database {
	t.Helper()
	_, d, err := schema.Connect(context.Background(), testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func buildTask(key string, src api.SourceSpec, b api.BuildSpec) *asynq.Task {
	p, _ := json.Marshal(schema.BuildTask{Campaign: "c", UID: "u", Key: key, Source: src, Build: b})
	return asynq.NewTask(schema.TypeBuild, p)
}

func buildRecord(t *testing.T, d *mongo.Database, key string) schema.BuildRecord {
	t.Helper()
	var r schema.BuildRecord
	if err := d.Collection(schema.CollBuilds).FindOne(context.Background(), bson.M{"_id": key}).Decode(&r); err != nil {
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
	if r.State != schema.BuildSucceeded || r.SHA256 == "" {
		t.Fatalf("record %+v", r)
	}
	out := t.TempDir()
	stream, err := d.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts)).OpenDownloadStreamByName(context.Background(), schema.ArtifactName(key))
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
	b := d.GridFSBucket(options.GridFSBucket().SetName(schema.BucketSources))
	if _, err := b.UploadFromStream(context.Background(), schema.SourceName("abc"), &buf); err != nil {
		t.Fatal(err)
	}
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b"}
	err := h.ProcessTask(context.Background(), buildTask("k2", api.SourceSpec{Archive: "abc"}, api.BuildSpec{Command: []string{"true"}}))
	if err != nil {
		t.Fatalf("a bad archive is the campaign's problem, not the queue's: %v", err)
	}
	if r := buildRecord(t, d, "k2"); r.State != schema.BuildFailed || !strings.Contains(r.LogTail, "leaves the archive") {
		t.Fatalf("record %+v", r)
	}
	// A missing archive and a failing command are recorded the same way.
	h.ProcessTask(context.Background(), buildTask("k3", api.SourceSpec{Archive: "nope"}, api.BuildSpec{Command: []string{"true"}}))
	if r := buildRecord(t, d, "k3"); r.State != schema.BuildFailed || !strings.Contains(r.LogTail, "never uploaded") {
		t.Fatalf("record %+v", r)
	}
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.WriteFile(filepath.Join(repo, "f"), []byte("x"), 0o644)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "x")
	h.ProcessTask(context.Background(), buildTask("k4", api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}},
		api.BuildSpec{Command: []string{"sh", "-c", "echo compiler says no >&2; exit 2"}}))
	if r := buildRecord(t, d, "k4"); r.State != schema.BuildFailed || !strings.Contains(r.LogTail, "compiler says no") {
		t.Fatalf("record %+v", r)
	}
}

// startDistccd runs a real distccd on a free loopback port and returns its
// host spec and log file.
func startDistccd(t *testing.T) (string, string) {
	t.Helper()
	bin, err := exec.LookPath("distccd")
	if err != nil {
		t.Fatalf("distccd is needed (Debian package distcc; make deps installs it): %v", err)
	}
	port := strconv.Itoa(freeport.Port(t))
	// distccd drops root privileges, so it logs to stderr, which we own.
	logFile := filepath.Join(t.TempDir(), "distccd.log")
	lf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--daemon", "--no-detach", "--allow", "127.0.0.1", "--listen", "127.0.0.1",
		"--port", port, "--log-stderr", "--log-level", "info", "--jobs", "2")
	cmd.Stderr = lf
	// distccd forks its workers: stop the whole group, not just the leader.
	testproc.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testproc.Stop(cmd); lf.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
			return "127.0.0.1:" + port, logFile
		}
		if time.Now().After(deadline) {
			t.Fatalf("distccd not listening: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func compileJobs(t *testing.T, logFile string) int {
	t.Helper()
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "COMPILE_OK")
}

// TestArchiveBuildThroughDistccHostsFromRedis builds an uploaded source
// archive with the distcc host list the controller keeps in Redis: every
// object file is compiled by a real distccd. The list is read at each build
// start, so once it is gone the next build compiles locally.
func TestArchiveBuildThroughDistccHostsFromRedis(t *testing.T) {
	d := db(t)
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	hosts, distccLog := startDistccd(t)
	ctx := context.Background()
	if err := rdb.Set(ctx, schema.DistccHostsKey, hosts, 0).Err(); err != nil {
		t.Fatal(err)
	}

	src := t.TempDir()
	for i, name := range []string{"a", "b", "c"} {
		body := fmt.Sprintf("int %s(void) { return %d; }\n", name, i+1)
		if name == "c" {
			body = "int a(void); int b(void);\nint main(void) { return a() + b() == 3 ? 0 : 1; }\n"
		}
		os.WriteFile(filepath.Join(src, name+".c"), []byte(body), 0o644)
	}
	os.WriteFile(filepath.Join(src, "Makefile"), []byte("prog: a.o b.o c.o\n\tgcc -o $@ $^\n\techo \"$(CC)\" > cc\n%.o: %.c\n\t$(CC) -c -o $@ $<\n"), 0o644)
	var buf bytes.Buffer
	sha, _, err := tarball.Pack(src, []string{"."}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.GridFSBucket(options.GridFSBucket().SetName(schema.BucketSources)).
		UploadFromStream(ctx, schema.SourceName(sha), &buf); err != nil {
		t.Fatal(err)
	}

	h := &Handler{DB: d, Hosts: RedisHosts{Client: rdb}, WorkDir: t.TempDir(), Jobs: 2, Worker: "b"}
	spec := api.BuildSpec{Command: []string{"make"}, Artifacts: []string{"prog", "cc"}}
	if err := h.ProcessTask(ctx, buildTask("kd1", api.SourceSpec{Archive: sha}, spec)); err != nil {
		t.Fatal(err)
	}
	r := buildRecord(t, d, "kd1")
	if r.State != schema.BuildSucceeded {
		t.Fatalf("record %+v", r)
	}
	if n := compileJobs(t, distccLog); n != 3 {
		t.Fatalf("distccd served %d compile jobs, want 3 (a.c b.c c.c)", n)
	}
	out := t.TempDir()
	stream, err := d.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts)).OpenDownloadStreamByName(ctx, schema.ArtifactName("kd1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.Extract(stream, out, tarball.DefaultLimit); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	if b, _ := os.ReadFile(filepath.Join(out, "cc")); strings.TrimSpace(string(b)) != "distcc gcc" {
		t.Fatalf("CC was %q, want \"distcc gcc\"", b)
	}
	if err := exec.Command(filepath.Join(out, "prog")).Run(); err != nil {
		t.Fatalf("built program does not work: %v", err)
	}

	// The controller withdraws the list: the next build compiles locally.
	if err := rdb.Del(ctx, schema.DistccHostsKey).Err(); err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(ctx, buildTask("kd2", api.SourceSpec{Archive: sha}, spec)); err != nil {
		t.Fatal(err)
	}
	if r := buildRecord(t, d, "kd2"); r.State != schema.BuildSucceeded {
		t.Fatalf("record %+v", r)
	}
	if n := compileJobs(t, distccLog); n != 3 {
		t.Fatalf("distccd served %d compile jobs after the host list was withdrawn, want still 3", n)
	}

	// A builder told to wait for hosts (the stack's, while its distcc
	// tasks start) builds through the list that appears meanwhile.
	h.HostsWait = time.Minute
	go func() {
		time.Sleep(time.Second)
		rdb.Set(ctx, schema.DistccHostsKey, hosts, 0)
	}()
	start := time.Now()
	if err := h.ProcessTask(ctx, buildTask("kd3", api.SourceSpec{Archive: sha}, spec)); err != nil {
		t.Fatal(err)
	}
	if r := buildRecord(t, d, "kd3"); r.State != schema.BuildSucceeded {
		t.Fatalf("record %+v", r)
	}
	if n := compileJobs(t, distccLog); n != 6 || time.Since(start) < time.Second {
		t.Fatalf("distccd served %d compile jobs in all after %v, want 6: the build did not wait for the list", n, time.Since(start))
	}
}

func TestRedisHostsPrefersRedisOverStatic(t *testing.T) {
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx := context.Background()
	hs := RedisHosts{Client: rdb, Static: "static:1"}
	if got, err := hs.DistccHosts(ctx); err != nil || got != "static:1" {
		t.Fatalf("no key: %q %v", got, err)
	}
	rdb.Set(ctx, schema.DistccHostsKey, " 10.0.0.2:3632 10.0.0.3:3632\n", 0)
	if got, err := hs.DistccHosts(ctx); err != nil || got != "10.0.0.2:3632 10.0.0.3:3632" {
		t.Fatalf("key set: %q %v", got, err)
	}
	rdb.Set(ctx, schema.DistccHostsKey, "  ", 0)
	if got, _ := hs.DistccHosts(ctx); got != "static:1" {
		t.Fatalf("blank key: %q", got)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	rs2 := RedisHosts{Client: down}
	if _, err := rs2.DistccHosts(ctx); err == nil {
		t.Fatal("an unreachable Redis must be an error (the build is retried), not \"no distcc\"")
	}
}

// TestPrebuiltSourceIsStoredWithoutBuilding: a prebuilt model's source is
// its artifact; no command runs (the Makefile here would fail).
func TestPrebuiltSourceIsStoredWithoutBuilding(t *testing.T) {
	d := db(t)
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.WriteFile(filepath.Join(repo, "Makefile"), []byte("all:\n\texit 3\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "model"), []byte("built elsewhere"), 0o755)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "x")
	h := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b"}
	b := api.BuildSpec{Prebuilt: true, Artifacts: []string{"model"}}
	if err := h.ProcessTask(context.Background(), buildTask("kp", api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}}, b)); err != nil {
		t.Fatal(err)
	}
	if r := buildRecord(t, d, "kp"); r.State != schema.BuildSucceeded || r.Size == 0 {
		t.Fatalf("record %+v", r)
	}
}
