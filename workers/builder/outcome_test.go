package builder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testdb"
)

// TestLastDeliveryAndPanicsFailTheBuild runs the handler under a real
// asynq server: an error the queue retries (an unusable work directory)
// becomes the build's recorded failure on the task's last delivery, and a
// panic at once; neither task is left archived with the build record
// saying Running, which kept its campaign Building for ever.
func TestLastDeliveryAndPanicsFailTheBuild(t *testing.T) {
	d := db(t)
	rs := testdb.StartRedis(t)
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	h := &Handler{DB: d, WorkDir: notDir, Worker: "b"}
	panicky := &Handler{DB: d, WorkDir: t.TempDir(), Worker: "b", Hosts: nilHosts{}}
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeBuild, func(ctx context.Context, tk *asynq.Task) error {
		if strings.Contains(string(tk.Payload()), `"key":"kp"`) {
			return panicky.ProcessTask(ctx, tk)
		}
		return h.ProcessTask(ctx, tk)
	})
	srv := asynq.NewServerFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}), asynq.Config{
		Concurrency: 2, Queues: map[string]int{schema.QueueBuild: 1}, LogLevel: asynq.FatalLevel,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClientFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}))
	defer client.Close()
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.WriteFile(filepath.Join(repo, "f"), []byte("x"), 0o644)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "x")
	src := api.SourceSpec{Git: &api.GitSource{URL: repo, Commit: "HEAD"}}
	for _, key := range []string{"kw", "kp"} {
		if _, err := client.Enqueue(buildTask(key, src, api.BuildSpec{Command: []string{"true"}}),
			asynq.Queue(schema.QueueBuild), asynq.MaxRetry(2), asynq.TaskID(schema.BuildTaskID(key))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for key, want := range map[string]string{"kw": "not a directory", "kp": "panic"} {
		for {
			var r schema.BuildRecord
			if rr, err := findBuild(d, key); err == nil {
				r = rr
			}
			if r.State == schema.BuildFailed {
				if !strings.Contains(r.LogTail, want) {
					t.Errorf("build %s: record %+v, want Failed with %q", key, r, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("build %s: no outcome recorded (record %+v)", key, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// nilHosts panics when asked: a stand-in for a bug in the build path.
type nilHosts struct{}

func (nilHosts) DistccHosts(context.Context) (string, error) { panic("no hosts for you") }

func findBuild(d *mongo.Database, key string) (schema.BuildRecord, error) {
	var r schema.BuildRecord
	err := d.Collection(schema.CollBuilds).FindOne(context.Background(), bson.M{"_id": key}).Decode(&r)
	return r, err
}
