package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

// TestReadHeartbeatsReadsHundredsInFewRoundTrips: the dashboard lists 200+
// workers from their heartbeats; bad entries are skipped, the TTL is read.
func TestReadHeartbeatsReadsHundredsInFewRoundTrips(t *testing.T) {
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx := context.Background()
	since := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for i := 0; i < 1200; i++ {
		hb := Heartbeat{Name: fmt.Sprintf("w%04d", i), Role: "run", Slots: 4, Tasks: []string{}}
		if i%2 == 0 {
			hb.Tasks, hb.Task, hb.Since = []string{fmt.Sprintf("c run %d", i)}, fmt.Sprintf("c run %d", i), since
		}
		b, _ := json.Marshal(hb)
		if err := rdb.Set(ctx, schema.WorkerKey(hb.Name), b, 30*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Set(ctx, schema.WorkerKey("broken"), "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "simswarm:other", "{}", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	hbs, err := ReadHeartbeats(ctx, rdb)
	if err != nil {
		t.Fatal(err)
	}
	if len(hbs) != 1200 || hbs[0].Name != "w0000" || hbs[1199].Name != "w1199" {
		t.Fatalf("%d heartbeats (first %+v)", len(hbs), hbs[0])
	}
	if h := hbs[2]; len(h.Tasks) != 1 || !h.Since.Equal(since) || h.TTL <= 0 || h.TTL > 30*time.Second || h.Slots != 4 {
		t.Fatalf("heartbeat w0002 = %+v", h)
	}
}
