package main

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/simswarm/simswarm/test/freeport"
)

// startServer serves cfg on a free loopback port from a new temporary
// directory until the test ends, and returns the address and the
// directory; ctx is cancelled when the server is stopped.
func startServer(t *testing.T, cfg config) (ctx context.Context, addr, dir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir = t.TempDir()
	addr = freeport.Addr(t)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, dir, addr, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ctx, addr, dir
}
