package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/controller/manager"
)

// TestShortAPITokensAreRefusedWithTheirSource: a controller (and a stack
// deploy) refuses an API token shorter than 16 characters before it
// starts anything, naming where the token came from and how to make one.
func TestShortAPITokensAreRefusedWithTheirSource(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An unusable --mongo: were the token accepted, the error would be
	// about MongoDB.
	common := []string{"controller", "--listen", "127.0.0.1:0", "--redis", "redis://127.0.0.1:1/0", "--mongo", "not-a-uri"}
	t.Setenv("SIMSWARM_TOKEN", "s3cret")
	_, err := cli(t, common...)
	if err == nil || !strings.Contains(err.Error(), "SIMSWARM_TOKEN") || !strings.Contains(err.Error(), "16") ||
		!strings.Contains(err.Error(), "openssl rand") {
		t.Errorf("controller with SIMSWARM_TOKEN=s3cret: %v; want a refusal naming SIMSWARM_TOKEN, the minimum and how to generate one", err)
	}
	_, err = cli(t, append(common, "--token-file", file)...)
	if err == nil || !strings.Contains(err.Error(), "--token-file "+file) || !strings.Contains(err.Error(), "1 characters") {
		t.Errorf("controller with a one-character --token-file: %v; want a refusal naming the file", err)
	}
	// The library refuses it too, whoever calls it.
	err = manager.Run(context.Background(), manager.Config{Token: "0123456789abcde", RedisURL: "redis://127.0.0.1:1/0", MongoURI: "not-a-uri"})
	if err == nil || !strings.Contains(err.Error(), "fewer than the minimum of 16") {
		t.Errorf("manager.Run with a 15-character token: %v", err)
	}
	// stack deploy would put it into the stack's secret: refused first.
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	_, err = cli(t, "stack", "deploy", "--token-file", file)
	if err == nil || !strings.Contains(err.Error(), "--token-file "+file) {
		t.Errorf("stack deploy with a one-character token: %v; want the token refused", err)
	}
}

// TestZeroDurationFlagsAreRefused: a duration flag whose zero would
// silently mean a default (or no limit, or a busy loop) is refused,
// naming the flag, as the manifest refuses timeout: 0s.
func TestZeroDurationFlagsAreRefused(t *testing.T) {
	t.Setenv("SIMSWARM_TOKEN", "a-long-enough-token-0123456789")
	for _, args := range [][]string{
		{"controller", "--lease", "0s", "--mongo", "not-a-uri"},
		{"controller", "--resync", "0", "--mongo", "not-a-uri"},
		{"controller", "--git-interval", "-1m", "--mongo", "not-a-uri"},
		{"runall", "--timeout", "0", "--", "./no-such-program", "-c", "X"},
		{"wait", "c", "--server", "http://127.0.0.1:1", "--interval", "0s"},
	} {
		flag := args[1]
		if args[0] == "wait" {
			flag = args[4]
		}
		_, err := cli(t, args...)
		if err == nil || !strings.Contains(err.Error(), flag+" must be positive") {
			t.Errorf("%v: %v; want %s refused", args, err, flag)
		}
	}
}
