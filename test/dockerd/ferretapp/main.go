// Command ferretapp is the MongoDB-wire server of the test images: FerretDB
// (pure Go, SQLite backend) listening on :27017 with its data in /data/db,
// the mongo image's data directory. It exits on SIGTERM. Tests and
// benchmarks only.
//
//	ferretapp [-id-index] [DIR [ADDR]]
//
// -id-index gives every collection the _id index FerretDB's own queries can
// use (see maintainIDIndexes), for benchmarks that compare systems on a
// MongoDB-like server; without it, as FerretDB ships, every lookup or
// update by _id scans its collection.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	idIndex := flag.Bool("id-index", false, "index every collection's _id the way FerretDB's queries look it up")
	flag.Parse()
	dir, addr := "/data/db", ":27017"
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	if flag.NArg() > 1 {
		addr = flag.Arg(1) // benchmarks on the host choose a loopback port
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := serve(ctx, dir, addr, *idIndex, log); err != nil {
		fmt.Fprintln(os.Stderr, "ferretapp:", err)
		os.Exit(1)
	}
}

// serve runs FerretDB on addr with its data in dir until ctx ends.
func serve(ctx context.Context, dir, addr string, idIndex bool, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    log,
	})
	if err != nil {
		return err
	}
	if idIndex {
		go maintainIDIndexes(ctx, dir, 250*time.Millisecond, log)
	}
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
