package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCPUProfileIsWrittenOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(profileEnv, "")
	startProfile([]string{"simswarm", "worker"})()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a profile was written unasked: %v", entries)
	}

	t.Setenv(profileEnv, dir)
	stop := startProfile([]string{"simswarm", "worker"})
	stop()
	files, err := filepath.Glob(filepath.Join(dir, "simswarm-worker-*.pprof"))
	if err != nil || len(files) != 2 {
		t.Fatalf("profiles in %s: %v, %v; want simswarm-worker-PID.pprof and .allocs.pprof", dir, files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// A pprof profile is a gzipped protocol buffer, written at stop.
		if len(b) < 20 || b[0] != 0x1f || b[1] != 0x8b {
			t.Fatalf("%s is no profile (%d bytes)", f, len(b))
		}
	}
}
