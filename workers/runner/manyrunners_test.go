package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/dbgate"
)

// TestManyRunnersStoringAtOnceKeepFerretDBAnswering: 100 runners (each
// its own clients and group commit, as separate processes are, behind
// one dbgate in Redis), each with 32 runs finishing at once, store all
// 3,200 runs, and FerretDB answers a query by _id within 10 s meanwhile.
// Without the gate FerretDB stopped answering after 73 runs (its pool of
// SQLite connections exhausted), as the million-run campaign of the last
// session did after 3,200 with 100 runners storing at once.
func TestManyRunnersStoringAtOnceKeepFerretDBAnswering(t *testing.T) {
	if testing.Short() {
		t.Skip("3,200 runs from 100 runners")
	}
	ctx := context.Background()
	uri := testdb.StartMongo(t)
	connect := func() *mongo.Database {
		client, db, err := schema.Connect(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
		return db
	}
	db := connect()
	const runners, perRunner = 100, 32
	var recs []any
	for i := range runners * perRunner {
		recs = append(recs, bson.M{"_id": schema.RunID("c", "u", i), "campaign": "c", "uid": "u", "run": i, "state": schema.RunPending})
	}
	if _, err := db.Collection(schema.CollRuns).InsertMany(ctx, recs); err != nil {
		t.Fatal(err)
	}
	rs := testdb.StartRedis(t)
	// A writer whose gate fails writes without it and logs why: as the
	// Handler's writers do, each has a logger (without one, a gate error
	// under load panicked the test).
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	dbs := make([]dbWriter, runners)
	for r := range dbs {
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
		t.Cleanup(func() { _ = rdb.Close() })
		dbs[r] = dbWriter{DB: connect(), Gate: &dbgate.Gate{Client: rdb, Key: "simswarm:test:dbwriters"}, Log: log}
	}
	errs := make([]error, runners*perRunner)
	var stored atomic.Int64
	done := make(chan struct{})
	t0 := time.Now()
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for r := range runners {
			g := &groupCommit{}
			for k := range perRunner {
				i := r*perRunner + k
				wg.Add(1)
				go func() {
					defer wg.Done()
					fid := bson.NewObjectID()
					errs[i] = g.store(dbs[r], &commit{
						chunks: []chunkDoc{{ID: bson.NewObjectID(), FilesID: fid, N: 0, Data: []byte(fmt.Sprint(i))}},
						files: []any{bson.M{"_id": fid, "length": len(fmt.Sprint(i)), "chunkSize": chunkSize,
							"filename": schema.ResultName("c", "u", i, "x.sca")}},
						comp: &schema.Completion{ID: schema.RunID("c", "u", i), Campaign: "c", UID: "u", Attempt: 1,
							Files: []schema.ResultFile{{Name: "x.sca", FileID: fid}}},
					})
					stored.Add(1)
				}()
			}
		}
		wg.Wait()
	}()
	// FerretDB keeps answering while they store: a query by _id every
	// second answers within 10 s.
	var slowest time.Duration
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.After(4 * time.Minute)
wait:
	for {
		select {
		case <-done:
			break wait
		case <-deadline:
			t.Fatalf("%d of %d runs stored within 4 minutes: FerretDB wedged", stored.Load(), runners*perRunner)
		case <-tick.C:
			qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			q0 := time.Now()
			err := db.Collection(schema.CollCompletions).FindOne(qctx, bson.M{"_id": schema.RunID("c", "u", 0)}).Err()
			cancel()
			if err != nil && err != mongo.ErrNoDocuments {
				t.Fatalf("FerretDB stopped answering after %d stored runs: %v", stored.Load(), err)
			}
			slowest = max(slowest, time.Since(q0))
		}
	}
	failed := 0
	for i, err := range errs {
		if err != nil {
			if failed < 5 {
				t.Errorf("run %d: %v", i, err)
			}
			failed++
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d runs not stored", failed, runners*perRunner)
	}
	n, err := db.Collection(schema.CollRuns).CountDocuments(ctx, bson.M{"state": schema.RunSucceeded})
	if err != nil || n != runners*perRunner {
		t.Fatalf("%d runs recorded Succeeded (%v), want %d", n, err, runners*perRunner)
	}
	t.Logf("%d runs from %d runners stored in %v; slowest query meanwhile %v", runners*perRunner, runners, time.Since(t0).Round(time.Millisecond), slowest)
}
