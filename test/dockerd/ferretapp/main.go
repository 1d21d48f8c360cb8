// Command ferretapp is the MongoDB-wire server of the test images: FerretDB
// (pure Go, SQLite backend) listening on :27017 with its data in /data/db,
// the mongo image's data directory. It exits on SIGTERM. Tests and
// benchmarks only.
//
//	ferretapp [-id-index] [-max-writes N] [-cpuprofile FILE] [DIR [ADDR]]
//
// -id-index gives every collection the _id index FerretDB's own queries can
// use (see maintainIDIndexes), for benchmarks that compare systems on a
// MongoDB-like server; without it, as FerretDB ships, every lookup or
// update by _id scans its collection. -max-writes N admits at most N
// writes at once (see admit): FerretDB's SQLite backend wedges for good
// under about 100 concurrent updates, which a MongoDB does not.
// -cpuprofile writes a CPU profile of the server until it exits, for the
// benchmarks that ask where the database's time goes.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	idIndex := flag.Bool("id-index", false, "index every collection's _id the way FerretDB's queries look it up")
	maxWrites := flag.Int("max-writes", 0, "admit at most this many writes at once (0: no bound); see admit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file until exit")
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
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(pf)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ferretapp: -cpuprofile:", err)
			os.Exit(1)
		}
		defer pf.Close()
		defer pprof.StopCPUProfile()
	}
	if err := serve(ctx, dir, addr, config{idIndex: *idIndex, maxWrites: *maxWrites}, log); err != nil {
		fmt.Fprintln(os.Stderr, "ferretapp:", err)
		os.Exit(1)
	}
}

// serve runs FerretDB on addr with its data in dir until ctx ends.
// config is how ferretapp serves.
type config struct {
	idIndex   bool
	maxWrites int
}

func serve(ctx context.Context, dir, addr string, cfg config, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	listen := ferretdb.ListenerConfig{TCP: addr}
	sock := filepath.Join(dir, "ferretdb.sock")
	if cfg.maxWrites > 0 {
		_ = os.Remove(sock)
		listen = ferretdb.ListenerConfig{Unix: sock}
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listen,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    log,
	})
	if err != nil {
		return err
	}
	if cfg.idIndex {
		go maintainIDIndexes(ctx, dir, 250*time.Millisecond, log)
	}
	if cfg.maxWrites > 0 {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		admitted := make(chan error, 1)
		go func() { admitted <- admit(ctx, addr, sock, cfg.maxWrites, log) }()
		err := f.Run(ctx)
		cancel()
		if aerr := <-admitted; aerr != nil && err == nil {
			err = aerr
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
