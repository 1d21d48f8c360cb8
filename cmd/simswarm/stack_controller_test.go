package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/testdb"
	"go.uber.org/zap/zaptest"
)

// TestControllerReconcilesStackWhileLeading runs the controller as the
// stack's controller service would (SIMSWARM_STACK_MANIFEST set, engine
// reachable) against real Redis, FerretDB and a private swarm: once it
// leads, it creates the whole stack and publishes the distcc hosts to its
// Redis for the builder.
func TestControllerReconcilesStackWhileLeading(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, stackTestImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	s, err := api.LoadStackFile(writeStack(t, d, "simswarm"))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_HOST", d.Host)
	t.Setenv(stackspec.StackManifestEnv, string(manifest))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "simswarm_api-token"}, Data: []byte("stack-test-token-0123456789")}); err != nil {
		t.Fatal(err)
	}
	rs := testdb.StartRedis(t)
	log := zaptest.NewLogger(t)
	srcs, err := stackRunnables(log, rs.URL(), nil)
	if err != nil || len(srcs) != 1 {
		t.Fatalf("stack sources: %v, %d", err, len(srcs))
	}
	cfg := manager.Config{Listen: "127.0.0.1:0", RedisURL: rs.URL(), MongoURI: testdb.StartMongo(t), Token: "stack-test-token-0123456789",
		LeaseDuration: 2 * time.Second, Resync: 2 * time.Second, Runnables: srcs, Logger: log}
	done := make(chan error, 1)
	go func() { done <- manager.Run(ctx, cfg) }()
	defer func() { cancel(); <-done }()

	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	waitFor(t, 60*time.Second, "controller created the stack and published distcc hosts", func() (bool, string) {
		svcs, err := d.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", stackspec.LabelStack+"=simswarm"))})
		if err != nil {
			return false, err.Error()
		}
		hosts, _ := rdb.Get(ctx, schema.DistccHostsKey).Result()
		return len(svcs) == 6 && hosts != "", fmt.Sprintf("%d services, hosts %q", len(svcs), hosts)
	})
	// The dashboard's swarm view reads the same reconciler: the stack's
	// services and the actions that created them.
	obs, ok := srcs[0].(dashboard.SwarmObserver)
	if !ok {
		t.Fatal("the stack source does not observe the swarm for the dashboard")
	}
	o, err := obs.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inStack, created := 0, 0
	for _, s := range o.Services {
		if s.Stack {
			inStack++
		}
	}
	for _, a := range o.Actions {
		if strings.HasPrefix(a.What, "created service/") {
			created++
		}
	}
	if inStack != 6 || len(o.Nodes) == 0 || created < 6 {
		t.Errorf("observation: %d stack services, %d nodes, %d service creations in %+v", inStack, len(o.Nodes), created, o.Actions)
	}

	t.Setenv(stackspec.StackManifestEnv, "")
	if srcs, err := stackRunnables(log, rs.URL(), nil); err != nil || len(srcs) != 0 {
		t.Errorf("without a manifest: %d sources, %v", len(srcs), err)
	}
	t.Setenv(stackspec.StackManifestEnv, `{"kind":"Stack","spec":{"endpointMode":"ipvs"}}`)
	if _, err := stackRunnables(log, rs.URL(), nil); err == nil {
		t.Error("an invalid stack manifest was accepted")
	}
}
