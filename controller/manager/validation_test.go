package manager_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
)

const token = "manager-test-token-0123456789"

// invalidRuns is a campaign every check of package api refuses, at
// spec.simulation.runs, and a weaker check (JSON shape, name) accepts.
func invalidRuns(name string) *api.Campaign {
	c := &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.com/m.git", Commit: "main"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Runs: "5..2"}}}
	return c
}

// A controller started with nothing but its addresses and token validates
// with package api: there is no hook to forget that would let an invalid
// manifest through the API, or into the reconciler from the store.
func TestDefaultConfigValidatesWithPackageAPI(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Config{Listen: "127.0.0.1:0", RedisURL: rs.URL(), MongoURI: mongoURI,
			Token: token, LeaseDuration: 2 * time.Second, Resync: time.Second, Ready: ready})
	}()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("controller did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("controller did not start")
	}

	// Through the API: refused, naming the field.
	c := client.New("http://"+addr, token)
	_, err := c.Apply(ctx, invalidRuns("bad-api"))
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != 422 || !strings.Contains(err.Error(), "spec.simulation.runs") {
		t.Fatalf("apply of an invalid campaign: %v, want 422 naming spec.simulation.runs", err)
	}
	if _, err := c.Get(ctx, "bad-api"); err == nil {
		t.Fatal("the invalid campaign was stored")
	}

	// Stored behind the API's back (an older controller, a hand edit): the
	// reconciler marks it failed, naming the field.
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	bad := invalidRuns("bad-stored")
	api.SetDefaults(bad)
	if _, err := st.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := st.Get(ctx, "bad-stored")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase == api.PhaseFailed {
			for _, cond := range got.Status.Conditions {
				if strings.Contains(cond.Message, "spec.simulation.runs") {
					return
				}
			}
			t.Fatalf("failed with conditions %+v, want one naming spec.simulation.runs", got.Status.Conditions)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored invalid campaign not refused: status %+v", got.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
