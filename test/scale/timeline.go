package scale

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/runlist"
)

// Timeline is when each step on the way to a campaign's first simulation
// was first seen, counted from the start of the apply (its upload
// included): where the time to first dispatch goes.
type Timeline struct {
	Uploaded, Applied time.Duration
	// BuildRecord: the controller created the build record; Built: the
	// builder recorded it Succeeded; Listed: the builder stored the run
	// list; Records: the first run record; Queued: the first run task in
	// the queue; Started: the first simulation began.
	BuildRecord, Built, Listed, Records, Queued, Started time.Duration
}

func (t Timeline) String() string {
	var b strings.Builder
	prev := time.Duration(0)
	for _, s := range []struct {
		name string
		at   time.Duration
	}{{"upload", t.Uploaded}, {"apply answered", t.Applied}, {"build record", t.BuildRecord},
		{"build succeeded", t.Built}, {"run list stored", t.Listed}, {"first run record", t.Records},
		{"first run task queued", t.Queued}, {"first simulation", t.Started}} {
		if s.at == 0 {
			fmt.Fprintf(&b, "  %-22s not seen\n", s.name)
			continue
		}
		fmt.Fprintf(&b, "  %-22s %7.0f ms (+%4.0f ms)\n", s.name, ms(s.at), ms(s.at-prev))
		prev = s.at
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// watchTimeline polls the database, the queue and the fleet every few
// milliseconds from t0 until the first simulation began (or ctx ends),
// and fills in when each step of t was first seen.
func (h *Harness) watchTimeline(ctx context.Context, db *mongo.Database, f *Fleet, t0 time.Time, t *Timeline) {
	opt, _ := redis.ParseURL(h.RedisURL)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	seen := func(d *time.Duration, ok bool) {
		if *d == 0 && ok {
			*d = time.Since(t0)
		}
	}
	exists := func(coll string, filter bson.M) bool {
		n, err := db.Collection(coll).CountDocuments(ctx, filter)
		return err == nil && n > 0
	}
	for ctx.Err() == nil {
		seen(&t.BuildRecord, t.BuildRecord != 0 || exists(schema.CollBuilds, bson.M{}))
		seen(&t.Built, t.Built != 0 || exists(schema.CollBuilds, bson.M{"state": schema.BuildSucceeded}))
		seen(&t.Listed, t.Listed != 0 || exists(runlist.Coll, bson.M{"state": runlist.StateSucceeded}))
		if t.Records == 0 {
			n, err := db.Collection(schema.CollRuns).EstimatedDocumentCount(ctx)
			seen(&t.Records, err == nil && n > 0)
		}
		if t.Queued == 0 {
			p, _ := rdb.LLen(ctx, "asynq:{"+schema.QueueRun+"}:pending").Result()
			a, _ := rdb.LLen(ctx, "asynq:{"+schema.QueueRun+"}:active").Result()
			seen(&t.Queued, p+a > 0)
		}
		if s := f.FirstStart(); !s.IsZero() {
			t.Started = s.Sub(t0)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}
