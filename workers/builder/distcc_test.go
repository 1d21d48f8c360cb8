package builder

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/tarball"
)

// TestMakefileNamingItsCompilersBuildsThroughDistcc builds C and C++
// sources with a makefile that names its compilers itself, as OMNeT++'s
// Makefile.inc does (CXX = g++): such a makefile ignores the CC the
// builder exports, so its compiles must reach distccd through distcc's
// masquerade directory on PATH. The C++ source compiled with $(CXX) from
// the environment goes through distcc too.
func TestMakefileNamingItsCompilersBuildsThroughDistcc(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultDistccMasquerade, "g++")); err != nil {
		t.Fatalf("distcc's masquerade links are needed (Debian: distcc with g++ installed, update-distcc-symlinks): %v", err)
	}
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
	files := map[string]string{
		"a.c":  "int a(void) { return 1; }\n",
		"b.cc": "extern \"C\" int a(void);\nint b() { return a() + 1; }\n",
		"m.cc": "int b();\nint main() { return b() == 2 ? 0 : 1; }\n",
		// a.c: CC set by the makefile; b.cc: CXX from the environment;
		// m.cc: g++ named in the rule.
		"Makefile": "CC = gcc\n" +
			"prog: a.o b.o m.o\n\tg++ -o $@ $^\n\techo \"$(CXX)\" > cxx\n" +
			"%.o: %.c\n\t$(CC) -c -o $@ $<\nb.o: b.cc\n\t$(CXX) -c -o $@ $<\nm.o: m.cc\n\tg++ -c -o $@ $<\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
	spec := api.BuildSpec{Command: []string{"make"}, Artifacts: []string{"prog", "cxx"}}
	if err := h.ProcessTask(ctx, buildTask("km1", api.SourceSpec{Archive: sha}, spec)); err != nil {
		t.Fatal(err)
	}
	if r := buildRecord(t, d, "km1"); r.State != schema.BuildSucceeded {
		t.Fatalf("record %+v", r)
	}
	log, err := os.ReadFile(distccLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.c", "b.cc", "m.cc"} {
		if !strings.Contains(string(log), "COMPILE_OK") || !containsJob(string(log), name) {
			t.Errorf("distccd did not compile %s:\n%s", name, log)
		}
	}
	out := t.TempDir()
	stream, err := d.GridFSBucket(options.GridFSBucket().SetName(schema.BucketArtifacts)).OpenDownloadStreamByName(ctx, schema.ArtifactName("km1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.Extract(stream, out, tarball.DefaultLimit); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	if b, _ := os.ReadFile(filepath.Join(out, "cxx")); strings.TrimSpace(string(b)) != "distcc g++" {
		t.Errorf("CXX in the build's environment was %q, want \"distcc g++\"", b)
	}
	if err := exec.Command(filepath.Join(out, "prog")).Run(); err != nil {
		t.Fatalf("built program does not work: %v", err)
	}
}

// containsJob reports whether distccd's log has a served job for source.
func containsJob(log, source string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "COMPILE_OK") && strings.HasSuffix(strings.TrimSpace(line), " "+source) {
			return true
		}
	}
	return false
}

func TestDistccEnvPutsTheMasqueradeFirstOnPath(t *testing.T) {
	masq := t.TempDir()
	env := distccEnv([]string{"PATH=/usr/bin:/bin", "CC=cc", "HOME=/root"}, map[string]string{"CXX": "clang++"}, "h1 h2", "/b/.distcc", masq)
	want := map[string]string{"PATH": masq + ":/usr/bin:/bin", "CC": "distcc gcc", "CXX": "distcc clang++", "DISTCC_HOSTS": "h1 h2", "DISTCC_DIR": "/b/.distcc", "HOME": "/root"}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v // the last one wins, as for exec
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q (env %q)", k, got[k], v, env)
		}
	}
	// Without the masquerade directory, PATH stays.
	env = distccEnv([]string{"PATH=/usr/bin:/bin"}, nil, "h1", "/d", filepath.Join(masq, "missing"))
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") && kv != "PATH=/usr/bin:/bin" {
			t.Errorf("PATH changed without a masquerade directory: %q", env)
		}
	}
}
