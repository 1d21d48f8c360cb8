package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/test/testdb"
)

// TestHostileSourceArchiveStaysInBuildDir uploads, through the API, a
// source archive whose entries are each safe by name but chain symlinks
// out of the build directory (a -> ., a/l1 -> .., a/l1/l2 -> .., ... and a
// file under the last link), and lets a real builder process take the
// build: nothing may appear outside the builder's --cache directory, and
// the campaign must fail naming the entry.
func TestHostileSourceArchiveStaysInBuildDir(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	p := startControllerProc(t, rs.URL(), mongoURI, writeToken(t))
	t.Setenv("SIMSWARM_SERVER", "http://"+p.addr)
	t.Setenv("SIMSWARM_TOKEN", testToken)

	// builds/build-*/src is three levels below the cache: a chain of five
	// links lands two levels above it, still inside this test's directory.
	top := t.TempDir()
	cache := filepath.Join(top, "p1", "p2", "p3", "cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	startProc(t, nil, "worker", "--role", "build", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", cache, "--name", "builder", "-v")

	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	link := "a"
	tw.WriteHeader(&tar.Header{Name: link, Typeflag: tar.TypeSymlink, Linkname: "."})
	for i := 1; i <= 5; i++ {
		link += "/l" + string(rune('0'+i))
		tw.WriteHeader(&tar.Header{Name: link, Typeflag: tar.TypeSymlink, Linkname: ".."})
	}
	payload := []byte("written outside the build directory\n")
	tw.WriteHeader(&tar.Header{Name: link + "/pwned", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(payload))})
	tw.Write(payload)
	tw.Close()
	gz.Close()
	sum := sha256.Sum256(buf.Bytes())
	sha := hex.EncodeToString(sum[:])
	c := client.New("http://"+p.addr, testToken)
	if err := c.UploadSource(context.Background(), sha, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		t.Fatal(err)
	}

	// Straight to the API: the CLI would pack a directory of its own.
	var cp api.Campaign
	if err := yaml.UnmarshalStrict([]byte(`apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: hostile
spec:
  source:
    path: model
    archive: `+sha+`
  build:
    command: ["true"]
    artifacts: ["model"]
  simulation:
    program: ["./model"]
    runs: "0"
`), &cp); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(context.Background(), &cp); err != nil {
		t.Fatal(err)
	}

	var out string
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out, "Failed") {
		if time.Now().After(deadline) {
			t.Fatalf("campaign did not fail:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
		out = mustCLI(t, "describe", "campaign", "hostile")
	}
	if !strings.Contains(out, "a/l1") || !strings.Contains(out, "unsafe archive entry") {
		t.Errorf("describe does not name the entry at fault:\n%s", out)
	}
	filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case p == cache:
			return filepath.SkipDir
		case d.Name() == "pwned" || d.Type()&fs.ModeSymlink != 0:
			t.Errorf("the archive put %s outside the builder's directory", p)
		}
		return nil
	})
}
