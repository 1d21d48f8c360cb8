package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, for LockWrites

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

// LockWrites takes the write lock of database db's SQLite file, as a long
// write of another client would, until release: FerretDB's writes to db
// wait for it (its busy timeout is 10 s) and then fail with "database is
// locked".
func (m *Mongo) LockWrites(t testing.TB, db string) (release func()) {
	t.Helper()
	ctx := context.Background()
	sdb, err := sql.Open("sqlite", "file:"+m.dir+"/"+db+".sqlite?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sdb.Conn(ctx)
	if err == nil {
		_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	}
	if err != nil {
		sdb.Close()
		t.Fatalf("lock the writes of %s: %v", db, err)
	}
	return func() {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		sdb.Close()
	}
}

// ferretLogger discards FerretDB's logs unless SIMSWARM_TEST_FERRETDB_LOG
// is set (then they go to stderr).
func ferretLogger() *slog.Logger {
	if os.Getenv("SIMSWARM_TEST_FERRETDB_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
