package testdb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/simswarm/simswarm/test/freeport"
)

// Mongo is a running FerretDB (SQLite backend) on a fixed loopback address
// and data directory, so it can be stopped and started again.
type Mongo struct {
	URI  string
	addr string
	dir  string

	cancel context.CancelFunc
	done   chan struct{}
}

// StartMongo runs FerretDB in this process until the test ends and returns a
// mongodb:// URI with a database of the test's own.
func StartMongo(t testing.TB) string { return StartMongoServer(t).URI }

// StartMongoServer is StartMongo returning the server, for tests that
// restart it.
func StartMongoServer(t testing.TB) *Mongo {
	t.Helper()
	addr := freeport.Addr(t)
	m := &Mongo{addr: addr, dir: t.TempDir(), URI: fmt.Sprintf("mongodb://%s/simswarm", addr)}
	m.Start(t)
	t.Cleanup(m.Stop)
	return m
}

// Start starts the (stopped) server on its address and data directory.
func (m *Mongo) Start(t testing.TB) {
	t.Helper()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: m.addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + m.dir + "/",
		Logger:    ferretLogger(),
	})
	if err != nil {
		t.Fatalf("ferretdb: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	done := m.done
	go func() { defer close(done); _ = f.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", m.addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ferretdb on %s not listening: %v", m.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop stops the server (idempotent); its data stays for Start.
func (m *Mongo) Stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cancel = nil
}

// ferretLogger discards FerretDB's logs unless SIMSWARM_TEST_FERRETDB_LOG
// is set (then they go to stderr).
func ferretLogger() *slog.Logger {
	if os.Getenv("SIMSWARM_TEST_FERRETDB_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
