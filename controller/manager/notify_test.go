package manager_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zaptest"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/test/testdb"
)

// A change made through a standby's API reaches the leader as a change,
// not as a finished run: the leader reads a bare campaign name as one run
// that finished, counts it towards the dispatch rate and gathers it for
// 200 ms, so an apply through a standby waited and skewed the window.
func TestAStandbysChangeIsNotAnnouncedAsAFinishedRun(t *testing.T) {
	rs := testdb.StartRedis(t)
	cfg := manager.Config{Listen: "127.0.0.1:0", RedisURL: rs.URL(), MongoURI: testdb.StartMongo(t), Token: token,
		LeaseDuration: 2 * time.Second, Resync: time.Second, Logger: zaptest.NewLogger(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := manager.New(ctx, cfg) // never started: it leads nothing
	if err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	sub := rdb.Subscribe(ctx, schema.ChangesChannel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is in place
		t.Fatal(err)
	}

	m.Notify("aloha")
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if name, runs := schema.ParseAnnouncement(msg.Payload); name != "aloha" || runs != 0 {
		t.Fatalf("the leader reads the standby's %q as campaign %q with %d finished runs, want aloha with none", msg.Payload, name, runs)
	}
}
