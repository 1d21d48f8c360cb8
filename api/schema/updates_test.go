package schema_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

// connect opens a client of its own on uri (as each runner has).
func connect(t *testing.T, uri string) *mongo.Database {
	t.Helper()
	client, db, err := schema.Connect(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return db
}

// Nine writers (the database gate's eight and the controller) each update
// 64 records at once, three times over. As single commands these held all
// of FerretDB's connections in the first round and every write timed out;
// in commands of UpdatesPerCommand they finish, and every update is there.
func TestConcurrentUpdatesInCommandsKeepFerretDBAnswering(t *testing.T) {
	ctx := context.Background()
	uri := testdb.StartMongo(t)
	coll := connect(t, uri).Collection("records")
	const writers, each = 9, 64
	var docs []any
	for i := range writers * each {
		docs = append(docs, bson.M{"_id": i, "round": -1})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	dbs := make([]*mongo.Database, writers)
	for w := range dbs {
		dbs[w] = connect(t, uri)
	}
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var models []mongo.WriteModel
				for i := w * each; i < (w+1)*each; i++ {
					models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": i}).
						SetUpdate(bson.M{"$set": bson.M{"round": round}}))
				}
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				errs[w] = schema.UpdateInCommands(wctx, dbs[w].Collection("records"), models)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		n, err := coll.CountDocuments(ctx, bson.M{"round": round})
		if err != nil || n != writers*each {
			t.Fatalf("round %d: %d records updated (%v), want %d", round, n, err, writers*each)
		}
	}
}

// A refused statement fails only itself, and the error names it by its
// place among all the models. FerretDB stopped a command at its refusal
// and named it index 0 (the first of its command, 4 here).
func TestUpdateInCommandsNamesRefusedStatementsAmongAll(t *testing.T) {
	ctx := context.Background()
	coll := connect(t, testdb.StartMongo(t)).Collection("records")
	const n, bad = 10, 6
	var docs []any
	for i := range n {
		v := any(bson.M{})
		if i == bad {
			v = "text" // no field can be set in it
		}
		docs = append(docs, bson.M{"_id": i, "v": v})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	var models []mongo.WriteModel
	for i := range n {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": i}).SetUpdate(bson.M{"$set": bson.M{"v.x": 1}}))
	}
	err := schema.UpdateInCommands(ctx, coll, models)
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 || bwe.WriteErrors[0].Index != bad {
		t.Fatalf("got %v (at %v), want one write error at index %d", err, indexes(bwe), bad)
	}
	for i := range n {
		n, err := coll.CountDocuments(ctx, bson.M{"_id": i, "v.x": 1})
		if err != nil {
			t.Fatal(err)
		}
		want := int64(1)
		if i == bad {
			want = 0
		}
		if n != want {
			t.Errorf("record %d: %d updated, want %d", i, n, want)
		}
	}
}

func indexes(bwe mongo.BulkWriteException) []int {
	var at []int
	for _, we := range bwe.WriteErrors {
		at = append(at, we.Index)
	}
	return at
}

// TestUpdateInCommandsOutlastsABusyDatabase: a command that fails for a
// passing reason (here FerretDB's SQLite write lock held past its 10 s
// busy timeout by another writer: "database is locked") is sent again,
// and the updates land once the lock is let go.
func TestUpdateInCommandsOutlastsABusyDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out FerretDB's 10 s busy timeout")
	}
	ctx := context.Background()
	m := testdb.StartMongoServer(t)
	coll := connect(t, m.URI).Collection("records")
	if _, err := coll.InsertMany(ctx, []any{bson.M{"_id": 1, "v": 0}, bson.M{"_id": 2, "v": 0}}); err != nil {
		t.Fatal(err)
	}
	release := m.LockWrites(t, "simswarm")
	held := time.AfterFunc(12*time.Second, release)
	defer func() {
		if held.Stop() {
			release()
		}
	}()
	models := []mongo.WriteModel{
		mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": 1}).SetUpdate(bson.M{"$set": bson.M{"v": 1}}),
		mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": 2}).SetUpdate(bson.M{"$set": bson.M{"v": 1}}),
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t0 := time.Now()
	if err := schema.UpdateInCommands(wctx, coll, models); err != nil {
		t.Fatalf("updates while another writer held the database for 12 s: %v", err)
	}
	if took := time.Since(t0); took < 10*time.Second {
		t.Fatalf("the updates took %v: the database was not held (the test tests nothing)", took)
	}
	if n, err := coll.CountDocuments(ctx, bson.M{"v": 1}); err != nil || n != 2 {
		t.Fatalf("%d records updated (%v), want 2", n, err)
	}
}
