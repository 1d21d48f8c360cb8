package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestManyConcurrentUpdatesDoNotWedge: FerretDB 1.24's SQLite backend
// holds a pooled connection for an update's query while it asks the pool
// (100 connections) for another to write, so about 100 updates at once
// wait for each other forever - what the scale harness met at 1,000
// runners, and the million-run campaign after 3,200 runs. With
// -max-writes, ferretapp admits only that many commands at once and 300
// clients updating together all finish.
func TestManyConcurrentUpdatesDoNotWedge(t *testing.T) {
	ctx, addr, _ := startServer(t, config{idIndex: true, maxWrites: 32})
	const clients = 300
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr).SetMaxPoolSize(clients).
		SetServerSelectionTimeout(20 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("bench").Collection("runs")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "warm"}); err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithTimeout(ctx, 60*time.Second)
	defer ocancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				id := fmt.Sprintf("c%d-%d", c, i)
				_, err := coll.UpdateOne(octx, bson.M{"_id": id}, bson.M{"$set": bson.M{"n": i}}, options.UpdateOne().SetUpsert(true))
				if err == nil {
					_, err = coll.UpdateOne(octx, bson.M{"_id": id}, bson.M{"$set": bson.M{"done": true}})
				}
				if err != nil {
					errs <- fmt.Errorf("client %d, update %d: %w", c, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, err := coll.CountDocuments(ctx, bson.M{"done": true}); err != nil || n != clients*5 {
		t.Fatalf("%d documents updated (%v), want %d", n, err, clients*5)
	}
}

// TestOpenCursorsDoNotWedgeAdmission: an open cursor holds one of
// FerretDB's pooled connections until it is drained, so with the pool
// held by cursors, the admitted commands wait for a connection; the
// cursors' getMore must still pass, or nothing ever moves again.
func TestOpenCursorsDoNotWedgeAdmission(t *testing.T) {
	ctx, addr, _ := startServer(t, config{idIndex: true, maxWrites: 32})
	const clients = 150
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr).SetMaxPoolSize(2 * clients).
		SetServerSelectionTimeout(20 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	docs := client.Database("bench").Collection("docs")
	var many []any
	for i := range 20 {
		many = append(many, bson.M{"_id": i})
	}
	if _, err := docs.InsertMany(ctx, many); err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithTimeout(ctx, 60*time.Second)
	defer ocancel()
	// Cursors are opened (a first batch read, the rest left) until the
	// pool is held or a few seconds passed; then all go on together.
	gate := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	count := 0
	go func() { time.Sleep(3 * time.Second); once.Do(func() { close(gate) }) }()
	open := func() {
		mu.Lock()
		defer mu.Unlock()
		if count++; count >= 100 {
			once.Do(func() { close(gate) })
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*clients)
	for c := range clients {
		wg.Add(2)
		go func() {
			defer wg.Done()
			cur, err := docs.Find(octx, bson.M{}, options.Find().SetBatchSize(2))
			if err != nil {
				open()
				errs <- fmt.Errorf("cursor %d: %w", c, err)
				return
			}
			defer cur.Close(context.Background())
			cur.Next(octx)
			open()
			<-gate
			n := 1
			for cur.Next(octx) {
				n++
			}
			if err := cur.Err(); err != nil || n != 20 {
				errs <- fmt.Errorf("cursor %d: %d documents (%v), want 20", c, n, err)
			}
		}()
		go func() {
			defer wg.Done()
			<-gate
			if _, err := client.Database("bench").Collection("runs").UpdateOne(octx, bson.M{"_id": c}, bson.M{"$set": bson.M{"done": true}},
				options.UpdateOne().SetUpsert(true)); err != nil {
				errs <- fmt.Errorf("update %d: %w", c, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
