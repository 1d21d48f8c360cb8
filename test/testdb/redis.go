package testdb

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/test/freeport"
	"github.com/simswarm/simswarm/test/testproc"
)

// Redis is a running redis-server.
type Redis struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
}

// URL is the redis:// URL of the server.
func (s *Redis) URL() string { return "redis://" + s.Addr + "/0" }

// StartRedis runs redis-server without persistence in a temp dir and stops it
// when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	s := &Redis{Addr: freeport.Addr(t), dir: t.TempDir()}
	s.Start(t)
	t.Cleanup(s.Stop)
	return s
}

// Start starts the (stopped) server on its address, empty: it keeps no
// data across Stop.
func (s *Redis) Start(t testing.TB) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed (make deps): %v", err)
	}
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--port", port, "--bind", host,
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	testproc.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s not ready: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server (idempotent).
func (s *Redis) Stop() {
	if s.cmd == nil {
		return
	}
	testproc.Stop(s.cmd)
	s.cmd = nil
}
