package heartbeat

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
		hb := Beat{Name: fmt.Sprintf("w%04d", i), Role: "run", Slots: 4, Tasks: []string{}}
		if i%2 == 0 {
			hb.Tasks, hb.Task, hb.Since = []string{fmt.Sprintf("c run %d", i)}, fmt.Sprintf("c run %d", i), since
		}
		b, _ := json.Marshal(hb)
		if err := rdb.Set(ctx, Key(hb.Name), b, 30*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Set(ctx, Key("broken"), "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "simswarm:other", "{}", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	hbs, err := Read(ctx, rdb)
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

// TestRunSlotsCountsTheLiveRunners: the controller sizes its queue window
// by the slots of the live runners: builders do not count, a runner that
// announces no slots counts one, an entry that is not a heartbeat none.
func TestRunSlotsCountsTheLiveRunners(t *testing.T) {
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	ctx := context.Background()
	entries := map[string]string{
		Key("r1"):      `{"name":"r1","role":"run","slots":16}`,
		Key("r2"):      `{"name":"r2","role":"run","slots":0}`,
		Key("r3"):      `{"role":"run","slots":4}`,
		Key("b1"):      `{"name":"b1","role":"build","slots":1}`,
		Key("broken"):  `{"role":"run","slots":`,
		"simswarm:x:r": `{"name":"x","role":"run","slots":100}`,
	}
	for k, v := range entries {
		if err := rdb.Set(ctx, k, v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Reader{Client: rdb}.RunSlots(ctx)
	if err != nil || n != 21 {
		t.Fatalf("RunSlots = %d, %v; want 21 (16 + 1 + 4)", n, err)
	}
}

// TestKeyIsTheContract: deployed controllers and workers of other
// versions read and write this key.
func TestKeyIsTheContract(t *testing.T) {
	if Key("w") != "simswarm:workers:w" {
		t.Errorf("Key(w) = %q differs from the contract", Key("w"))
	}
}
