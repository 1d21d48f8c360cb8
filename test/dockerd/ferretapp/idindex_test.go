package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestIDIndexIsUsedAndSurvivesADroppedDatabase: with -id-index, a lookup
// by _id searches the added index instead of scanning the table; after the
// database is dropped and created again (FerretDB deletes and re-creates
// its file), the new table is indexed too and the data stays readable.
func TestIDIndexIsUsedAndSurvivesADroppedDatabase(t *testing.T) {
	ctx, addr, dir := startServer(t, config{idIndex: true})
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr).SetServerSelectionTimeout(20 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	for round := range 2 {
		db := client.Database("bench")
		coll := db.Collection("runs")
		var docs []any
		for i := range 200 {
			docs = append(docs, bson.M{"_id": fmt.Sprintf("r%d", i), "round": round})
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		plan := waitForIndexedPlan(t, filepath.Join(dir, "bench.sqlite"))
		t.Logf("round %d: %s", round, plan)
		for i := range 200 {
			res, err := coll.UpdateOne(ctx, bson.M{"_id": fmt.Sprintf("r%d", i)}, bson.M{"$set": bson.M{"done": true}})
			if err != nil || res.ModifiedCount != 1 {
				t.Fatalf("round %d: update r%d: %+v %v", round, i, res, err)
			}
		}
		if n, err := coll.CountDocuments(ctx, bson.M{"done": true, "round": round}); err != nil || n != 200 {
			t.Fatalf("round %d: %d updated records (%v), want 200", round, n, err)
		}
		if err := db.Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// waitForIndexedPlan returns SQLite's plan for a lookup by _id in the
// runs table once it uses the added index.
func waitForIndexedPlan(t *testing.T, file string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		plan, err := idLookupPlan(file)
		if err == nil && strings.Contains(plan, indexSuffix) {
			return plan
		}
		if time.Now().After(deadline) {
			t.Fatalf("lookup by _id still not indexed: %q %v", plan, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func idLookupPlan(file string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var tbl string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'runs'`).Scan(&tbl); err != nil {
		return "", err
	}
	var id, parent, unused int
	var detail string
	err = db.QueryRow(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, tbl), `"r1"`).
		Scan(&id, &parent, &unused, &detail)
	return detail, err
}
