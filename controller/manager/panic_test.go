package manager_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/reconcile"
	"github.com/simswarm/simswarm/test/testdb"
)

func gitCampaign(name string) *api.Campaign {
	c := &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.invalid/model.git", Commit: "0123456789abcdef0123456789abcdef01234567"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAloha", Runs: "0..3"}}}
	api.SetDefaults(c)
	return c
}

// TestPanickingPassLeavesTheAPIServing runs a whole controller (real
// redis-server and FerretDB) beside a leader-only controller on the same
// runtime as the campaign controller, whose pass panics on every campaign
// as a reconciler bug would: the API, which shares the process, keeps
// answering, the pass is retried, and the campaign controller still
// reconciles. Without the runtime's recovery the first pass took the
// process (here: the test binary) down.
func TestPanickingPassLeavesTheAPIServing(t *testing.T) {
	rs := testdb.StartRedis(t)
	var panics atomic.Int64
	ready := make(chan string, 1)
	cfg := manager.Config{Listen: "127.0.0.1:0", RedisURL: rs.URL(), MongoURI: testdb.StartMongo(t), Token: token,
		LeaseDuration: 2 * time.Second, Resync: time.Second, Ready: ready, Logger: zaptest.NewLogger(t)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := manager.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := m.Store()
	m.Add(reconcile.New(reconcile.Options{Name: "campaign", Resync: time.Second, Logger: zaptest.NewLogger(t),
		Keys: func(ctx context.Context) ([]string, error) {
			cs, err := st.List(ctx)
			var names []string
			for _, c := range cs {
				names = append(names, c.Metadata.Name)
			}
			return names, err
		},
		Reconcile: func(ctx context.Context, name string) (reconcile.Result, error) {
			panics.Add(1)
			var counts map[string]int
			counts[name]++ // assignment to entry in nil map
			return reconcile.Result{}, nil
		}}))
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	defer func() { cancel(); <-done }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("controller did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("controller did not start")
	}
	c := client.New("http://"+addr, token)
	if _, err := c.Apply(ctx, gitCampaign("fine")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for panics.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the panicking pass ran %d times, want it retried", panics.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		cp, err := c.Get(ctx, "fine")
		if err == nil && cp.Status.ObservedGeneration == cp.Metadata.Generation && cp.Status.Phase != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign controller did not reconcile beside the panicking pass: %+v, %v", cp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.Apply(ctx, gitCampaign("later")); err != nil {
		t.Fatalf("API after %d panicking passes: %v", panics.Load(), err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("API list after %d panicking passes: %d campaigns, %v", panics.Load(), len(list), err)
	}
	select {
	case err := <-done:
		t.Fatalf("manager stopped: %v", err)
	default:
	}
}
