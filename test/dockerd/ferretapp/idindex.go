package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses
)

// maintainIDIndexes gives every collection table in FerretDB's SQLite
// directory an index on the expression its queries filter _id by.
//
// Why: FerretDB 1.24 declares each table's unique _id index on
// `_ferretdb_sjson->"_id"` but filters with `_ferretdb_sjson->'$._id'`.
// SQLite only uses an index whose expression matches the query's exactly,
// so every find, update and delete by _id scans the whole table: an update
// of one record costs a JSON parse of every record. MongoDB always has an
// _id index; with this one FerretDB behaves like it in that respect (the
// unique index FerretDB made still enforces uniqueness). Collections
// created meanwhile are picked up within one interval; until then they
// are only slower.
func maintainIDIndexes(ctx context.Context, dir string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, f := range files {
			if err := indexFile(ctx, f); err != nil && ctx.Err() == nil {
				log.Warn("_id index", "file", f, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// indexFile opens the database file only for one round: FerretDB deletes
// and re-creates the file when a database is dropped, and a connection
// kept to the deleted file would write into the new file's WAL.
func indexFile(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return indexTables(ctx, db)
}

// indexSuffix names the added index after its table.
const indexSuffix = "_id_path"

func indexTables(ctx context.Context, db *sql.DB) error {
	// Only tables still without the index: a dropped and re-created
	// collection gets a fresh table.
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections c WHERE NOT EXISTS
		(SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, indexSuffix)
	if err != nil {
		return nil // a database file without collections yet
	}
	var tables []string
	for rows.Next() {
		var tbl string
		if err := rows.Scan(&tbl); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, tbl)
	}
	rows.Close()
	for _, tbl := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, tbl+indexSuffix, tbl)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index %s: %w", tbl, err) // dropped meanwhile: next round
		}
	}
	return nil
}
