package main

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// TestWorkerPrefetchHoldsTasksBeyondItsSlots: a runner with --slots 1
// --prefetch 1 holds two tasks at once but runs one simulation at a time;
// with --prefetch 0 it holds only the task it runs, leaving the rest in the
// queue for other workers.
func TestWorkerPrefetchHoldsTasksBeyondItsSlots(t *testing.T) {
	for _, tc := range []struct {
		prefetch   string
		wantActive int
	}{{"1", 2}, {"0", 1}} {
		t.Run("prefetch="+tc.prefetch, func(t *testing.T) {
			rs, mongoURI, db := startRedisAndMongo(t)
			ctx := context.Background()
			const key = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			storeFakesimArtifact(t, db, key, "[General]\n**.mode = ${mode=slow}\n**.n = ${n=1,2,3}\n")
			ropt, _ := redis.ParseURL(rs.URL())
			aq := asynq.NewClientFromRedisClient(redis.NewClient(ropt))
			defer aq.Close()
			const runs = 3
			for run := range runs {
				if _, err := db.Collection(schema.CollRuns).InsertOne(ctx, schema.RunRecord{ID: schema.RunID("c", "uid-1", run),
					Campaign: "c", UID: "uid-1", Run: run, State: schema.RunPending}); err != nil {
					t.Fatal(err)
				}
				payload, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "uid-1", Run: run, ArtifactKey: key,
					Simulation: api.SimulationSpec{Program: []string{"./fakesim"}, IniFile: "omnetpp.ini", Config: "General", WorkingDir: ".",
						Env: map[string]string{"FAKESIM_SLOW": "1500ms"}},
					Results: []string{"results/*.sca"}, Timeout: api.Duration{Duration: time.Minute}})
				if _, err := aq.Enqueue(asynq.NewTask(schema.TypeRun, payload), asynq.TaskID(schema.RunTaskID("c", "uid-1", run, 0)),
					asynq.Queue(schema.QueueRun), asynq.MaxRetry(3)); err != nil {
					t.Fatal(err)
				}
			}
			startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI, "--slots", "1",
				"--prefetch", tc.prefetch, "--cache", t.TempDir(), "--name", "pf")
			insp := asynq.NewInspectorFromRedisClient(redis.NewClient(ropt))
			defer insp.Close()
			most := 0
			defer func() {
				if t.Failed() {
					cur, _ := db.Collection(schema.CollRuns).Find(ctx, bson.M{})
					var all []schema.RunRecord
					_ = cur.All(ctx, &all)
					for _, r := range all {
						t.Logf("record %+v", r)
					}
				}
			}()
			waitUntil(t, "every run to succeed", 60*time.Second, func() bool {
				if q, err := insp.GetQueueInfo(schema.QueueRun); err == nil {
					most = max(most, q.Active)
				}
				n, _ := db.Collection(schema.CollRuns).CountDocuments(ctx, bson.M{"state": schema.RunSucceeded})
				return n == runs
			})
			if most != tc.wantActive {
				t.Errorf("the worker held up to %d tasks at once, want %d", most, tc.wantActive)
			}
			// One slot: the simulations ran one after the other. A record's
			// start is when its simulation got the slot and its duration the
			// simulation's (both stored to the millisecond).
			var recs []schema.RunRecord
			cur, err := db.Collection(schema.CollRuns).Find(ctx, bson.M{})
			if err != nil || cur.All(ctx, &recs) != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.StartedAt == nil {
					t.Fatalf("run %d has no start time: %+v", r.Run, r)
				}
			}
			sort.Slice(recs, func(i, j int) bool { return recs[i].StartedAt.Before(*recs[j].StartedAt) })
			for i := 1; i < len(recs); i++ {
				prevEnd := recs[i-1].StartedAt.Add(time.Duration(recs[i-1].DurationMS) * time.Millisecond)
				if recs[i].StartedAt.Before(prevEnd.Add(-time.Millisecond)) {
					t.Errorf("run %d started at %s, before run %d's simulation ended at %s: two simulations at once on one slot",
						recs[i].Run, recs[i].StartedAt, recs[i-1].Run, prevEnd)
				}
			}
		})
	}
}
