package dashboard_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/campaign"
	"github.com/simswarm/simswarm/controller/dashboard"
)

// TestCampaignPageShowsInFlightRunsFromTheQueue: run records say Pending
// until the outcome; the campaign page shows the runs whose tasks are in
// the (real) queue as Queued, and the one a worker runs as Running, and
// its Queued/Running filters list them.
func TestCampaignPageShowsInFlightRunsFromTheQueue(t *testing.T) {
	var live campaign.AsynqQueue // set once the env's Redis exists
	e := newEnv(t, func(c *dashboard.Config) { c.Live = &live })
	live = *campaign.NewAsynqQueue(e.rdb)
	ctx := context.Background()
	c := e.campaign(t, "fly", 10, api.CampaignStatus{Phase: api.PhaseRunning})
	uid := c.Metadata.UID
	for _, run := range []int{4, 5, 6} {
		if err := live.EnqueueRun(ctx, schema.RunTask{Campaign: "fly", UID: uid, Run: run,
			Timeout: api.Duration{Duration: time.Minute}}); err != nil {
			t.Fatal(err)
		}
	}
	// A worker with one slot takes the first task (run 4), starts it (as
	// a runner marks a task whose simulation took a slot) and holds it.
	release := make(chan struct{})
	srv := asynq.NewServerFromRedisClient(e.rdb, asynq.Config{Concurrency: 1, Queues: map[string]int{schema.QueueRun: 1},
		LogLevel: asynq.ErrorLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeRun, func(ctx context.Context, tk *asynq.Task) error {
		if _, err := tk.ResultWriter().Write([]byte(schema.TaskStarted)); err != nil {
			t.Error(err)
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(release); srv.Shutdown() })

	cl := e.client(t)
	e.login(t, cl)
	u := e.srv.URL + "/ui/api/campaigns/fly"
	var p dashboard.CampaignPage
	waitFor(t, 15*time.Second, "run 4 running and the page indexed", func() (bool, string) {
		p = dashboard.CampaignPage{}
		getJSON(t, cl, u, &p)
		return p.Runs.Indexed && len(p.Runs.Items) == 10 && p.Runs.Items[4].State == schema.RunRunning, fmt.Sprintf("%+v", p.Runs.Items)
	})
	want := map[int]string{3: schema.RunPending, 4: schema.RunRunning, 5: schema.RunQueued, 6: schema.RunQueued, 7: schema.RunPending}
	for run, st := range want {
		if p.Runs.Items[run].State != st {
			t.Errorf("run %d shows %s, want %s", run, p.Runs.Items[run].State, st)
		}
	}
	getJSON(t, cl, u+"?state=Queued", &p)
	if p.Runs.Matching != 2 || len(p.Runs.Items) != 2 || p.Runs.Items[0].Run != 5 || p.Runs.Items[1].Run != 6 {
		t.Errorf("Queued filter: %+v", p.Runs)
	}
	getJSON(t, cl, u+"?state=Running", &p)
	if p.Runs.Matching != 1 || len(p.Runs.Items) != 1 || p.Runs.Items[0].Run != 4 {
		t.Errorf("Running filter: %+v", p.Runs)
	}
	getJSON(t, cl, u+"?state=Pending", &p)
	if p.Runs.Matching != 7 || len(p.Runs.Items) != 7 {
		t.Errorf("Pending filter: matching %d, %d items, want the 7 runs not in the queue", p.Runs.Matching, len(p.Runs.Items))
	}
}
