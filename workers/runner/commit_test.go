package runner

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap/zaptest"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

// TestGroupCommitStoresConcurrentRunsTogether: runs finishing at once are
// stored by fewer commands than runs, every one of them completely
// (chunk, file document, completion, record outcome), and a run another
// attempt completed first is refused alone, without failing the others.
func TestGroupCommitStoresConcurrentRunsTogether(t *testing.T) {
	ctx := context.Background()
	var completionInserts atomic.Int32
	client, err := mongo.Connect(options.Client().ApplyURI(testdb.StartMongo(t)).SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if e.CommandName == "insert" && e.Command.Lookup("insert").StringValue() == schema.CollCompletions {
				completionInserts.Add(1)
			}
		}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	db := client.Database("simswarm")
	const n, dup = 24, 5
	for i := range n {
		if _, err := db.Collection(schema.CollRuns).InsertOne(ctx, bson.M{"_id": schema.RunID("c", "u", i), "state": schema.RunPending}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: schema.RunID("c", "u", dup), Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	completionInserts.Store(0)

	var g groupCommit
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fid := bson.NewObjectID()
			c := &commit{
				chunks: []chunkDoc{{ID: bson.NewObjectID(), FilesID: fid, N: 0, Data: []byte{byte(i)}}},
				files:  []any{bson.M{"_id": fid, "length": 1, "chunkSize": chunkSize, "filename": schema.ResultName("c", "u", i, "x.sca")}},
				comp:   &schema.Completion{ID: schema.RunID("c", "u", i), Attempt: 2, Files: []schema.ResultFile{{Name: "x.sca", FileID: fid}}},
			}
			start.Wait()
			errs[i] = g.store(dbWriter{DB: db}, c)
		}()
	}
	start.Done()
	wg.Wait()

	for i, err := range errs {
		var rec struct {
			State    string `bson:"state"`
			Attempts int    `bson:"attempts"`
		}
		if err := db.Collection(schema.CollRuns).FindOne(ctx, bson.M{"_id": schema.RunID("c", "u", i)}).Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if i == dup {
			if !errors.Is(err, errCompletedElsewhere) {
				t.Errorf("run %d, completed before: %v, want errCompletedElsewhere", i, err)
			}
			if rec.State != schema.RunPending {
				t.Errorf("run %d, completed before, recorded %s by the refused commit", i, rec.State)
			}
			continue
		}
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
		if rec.State != schema.RunSucceeded || rec.Attempts != 2 {
			t.Errorf("run %d recorded %s after %d attempts, want Succeeded after 2", i, rec.State, rec.Attempts)
		}
	}
	for coll, want := range map[string]int64{".chunks": n, ".files": n} {
		if got, _ := db.Collection(schema.BucketResults+coll).CountDocuments(ctx, bson.M{}); got != want {
			t.Errorf("%d documents in %s%s, want %d", got, schema.BucketResults, coll, want)
		}
	}
	if got, _ := db.Collection(schema.CollCompletions).CountDocuments(ctx, bson.M{}); got != n {
		t.Errorf("%d completions, want %d", got, n)
	}
	if k := completionInserts.Load(); k >= n/2 {
		t.Errorf("%d runs finishing at once took %d completion inserts, want batches (fewer than %d)", n, k, n/2)
	} else {
		t.Logf("%d runs stored by %d completion inserts", n, k)
	}
}

// TestGroupCommitFailsEveryRunOfAFailedCommand: when the database refuses
// a batch's command (here: it is gone), every run in it gets the error,
// marked unstored when no completion can have been written.
func TestGroupCommitFailsEveryRunOfAFailedCommand(t *testing.T) {
	m := testdb.StartMongoServer(t)
	client, db, err := schema.Connect(context.Background(), m.URI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	m.Stop()
	var g groupCommit
	fid := bson.NewObjectID()
	err = g.store(dbWriter{DB: db}, &commit{
		chunks: []chunkDoc{{ID: bson.NewObjectID(), FilesID: fid, N: 0, Data: []byte("x")}},
		files:  []any{bson.M{"_id": fid, "length": 1}},
		comp:   &schema.Completion{ID: schema.RunID("c", "u", 1)},
	})
	if !errors.Is(err, errUnstored) {
		t.Fatalf("store with the database gone: %v, want errUnstored", err)
	}
}

// TestGroupCommitBoundsChunkInsertsByBytes: each run's share of chunks is
// under maxBatchBytes, but a batch of runs is not; no chunk insert carries
// more than maxBatchBytes of data (plus the chunk that crosses it), so no
// command approaches the 48 MB message limit however many runs finish at
// once, and every run's chunks are stored.
func TestGroupCommitBoundsChunkInsertsByBytes(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var sizes []int
	client, err := mongo.Connect(options.Client().ApplyURI(testdb.StartMongo(t)).SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if e.CommandName == "insert" && e.Command.Lookup("insert").StringValue() == schema.BucketResults+".chunks" {
				mu.Lock()
				sizes = append(sizes, len(e.Command))
				mu.Unlock()
			}
		}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	db := client.Database("simswarm")
	const runs, perRun = 5, 28 // 7 MiB of chunks per run, 35 MiB together
	data := make([]byte, chunkSize)
	var batch []*commit
	for i := range runs {
		fid := bson.NewObjectID()
		c := &commit{comp: &schema.Completion{ID: schema.RunID("c", "u", i), Attempt: 1}}
		for n := range perRun {
			c.chunks = append(c.chunks, chunkDoc{ID: bson.NewObjectID(), FilesID: fid, N: int32(n), Data: data})
		}
		batch = append(batch, c)
	}
	errs := make([]error, runs)
	writeBatch(ctx, db, batch, errs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if got, _ := db.Collection(schema.BucketResults+".chunks").CountDocuments(ctx, bson.M{}); got != runs*perRun {
		t.Errorf("%d chunks stored, want %d", got, runs*perRun)
	}
	for _, n := range sizes {
		if n > maxBatchBytes+2*chunkSize {
			t.Errorf("a chunk insert of %d bytes (%d commands: %v), want at most about %d", n, len(sizes), sizes, maxBatchBytes)
		}
	}
}

// TestGroupCommitsOfManyRunsAtOnceKeepFerretDBAnswering: two workers (two
// group commits), each with a few hundred runs finishing at once, store
// every run within a bound. FerretDB 1.24 wedged for good (every later
// command timed out) on a bulk update of 40 to 227 run records, or on two
// at once, which commits of up to 256 runs sent here.
func TestGroupCommitsOfManyRunsAtOnceKeepFerretDBAnswering(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	largest := 0
	client, err := mongo.Connect(options.Client().ApplyURI(testdb.StartMongo(t)).SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if e.CommandName == "update" {
				if v, err := e.Command.LookupErr("updates"); err == nil {
					n, _ := v.Array().Values()
					mu.Lock()
					largest = max(largest, len(n))
					mu.Unlock()
				}
			}
		}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	db := client.Database("simswarm")
	const workers, perWorker = 2, 300
	var recs []any
	for i := range workers * perWorker {
		recs = append(recs, bson.M{"_id": schema.RunID("c", "u", i), "state": schema.RunPending})
	}
	if _, err := db.Collection(schema.CollRuns).InsertMany(ctx, recs); err != nil {
		t.Fatal(err)
	}
	done := make(chan []error, 1)
	go func() {
		errs := make([]error, workers*perWorker)
		var wg sync.WaitGroup
		for w := range workers {
			g := &groupCommit{}
			for k := range perWorker {
				i := w*perWorker + k
				wg.Add(1)
				go func() {
					defer wg.Done()
					fid := bson.NewObjectID()
					errs[i] = g.store(dbWriter{DB: db}, &commit{
						chunks: []chunkDoc{{ID: bson.NewObjectID(), FilesID: fid, N: 0, Data: []byte{byte(i)}}},
						files:  []any{bson.M{"_id": fid, "length": 1, "chunkSize": chunkSize, "filename": schema.ResultName("c", "u", i, "x.sca")}},
						comp:   &schema.Completion{ID: schema.RunID("c", "u", i), Attempt: 1, Files: []schema.ResultFile{{Name: "x.sca", FileID: fid}}},
					})
				}()
			}
		}
		wg.Wait()
		done <- errs
	}()
	select {
	case errs := <-done:
		for i, err := range errs {
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("%d runs not stored within 3 minutes (largest update: %d records): FerretDB wedged", workers*perWorker, largest)
	}
	n, err := db.Collection(schema.CollRuns).CountDocuments(ctx, bson.M{"state": schema.RunSucceeded})
	if err != nil || n != workers*perWorker {
		t.Fatalf("%d runs recorded Succeeded (%v), want %d", n, err, workers*perWorker)
	}
	if largest > maxBatchCommit {
		t.Errorf("an update of %d run records, want at most %d", largest, maxBatchCommit)
	}
	t.Logf("largest update: %d records", largest)
}

// brokenGate is a database writers' gate that has failed: it lets every
// write through, saying why (as dbgate.Gate does when Redis is gone).
type brokenGate struct{}

func (brokenGate) Acquire(context.Context) (func(), error) {
	return func() {}, errors.New("gate unreachable")
}

// TestWriteThroughAFailedGateStoresTheRun: a gate that failed lets the
// write go on, and the run is stored, by a writer with a logger (the
// Handler's) or without one.
func TestWriteThroughAFailedGateStoresTheRun(t *testing.T) {
	db := newDB(t)
	for i, w := range []dbWriter{{DB: db, Gate: brokenGate{}, Log: zaptest.NewLogger(t)}, {DB: db, Gate: brokenGate{}}} {
		var g groupCommit
		id := schema.RunID("c", "u", i)
		if err := g.store(w, &commit{comp: &schema.Completion{ID: id}}); err != nil {
			t.Fatalf("writer %d: store through a failed gate: %v", i, err)
		}
		if n, err := db.Collection(schema.CollCompletions).CountDocuments(context.Background(), bson.M{"_id": id}); err != nil || n != 1 {
			t.Fatalf("writer %d: %d completions of the run (%v), want 1", i, n, err)
		}
	}
}
