package stack

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"go.uber.org/zap/zaptest"
)

// TestDeployStatusRemove bootstraps a stack the way `simswarm stack deploy`
// does, checks status, then removes it: the mongo volume survives a plain
// rm and goes with Volumes; unlabelled objects survive both.
func TestDeployStatusRemove(t *testing.T) {
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	ctx := context.Background()
	s := testStack(t, d)
	keepNet, err := d.Client.NetworkCreate(ctx, "keepme", network.CreateOptions{Driver: "overlay"})
	if err != nil {
		t.Fatal(err)
	}
	keepVol, err := d.Client.VolumeCreate(ctx, volume.CreateOptions{Name: "keepme"})
	if err != nil {
		t.Fatal(err)
	}

	// Bootstrap: the controller and its stores; it creates the rest.
	res, err := Deploy(ctx, d.Client, s, DeployOptions{Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.SecretCreated || len(res.NewToken) != 64 {
		t.Errorf("secret created %v, token length %d", res.SecretCreated, len(res.NewToken))
	}
	wantCreated := []string{"network/simswarm_interlink", "network/simswarm_buildnet", "service/simswarm_controller", "service/simswarm_mongo", "service/simswarm_redis"}
	if !slices.Equal(res.Created, wantCreated) {
		t.Errorf("created %v, want %v", res.Created, wantCreated)
	}
	// Again with --all: the rest appears, the secret is kept.
	res, err = Deploy(ctx, d.Client, s, DeployOptions{All: true, Token: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if res.SecretCreated || res.NewToken != "" || len(res.Created) != 3 {
		t.Errorf("second deploy: %+v", res)
	}
	eventually(t, 60*time.Second, "every service running and in sync", func() (bool, string) {
		st, err := Status(ctx, d.Client, s)
		if err != nil {
			return false, err.Error()
		}
		var bad []string
		for _, x := range st {
			if !x.Present || !x.InSync || x.Running == 0 && x.Desired > 0 || x.Mode == "global" && x.Running == 0 {
				bad = append(bad, x.Name)
			}
		}
		if len(bad) > 0 {
			tasks, _ := d.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", bad[0]))})
			for _, task := range tasks {
				bad = append(bad, string(task.Status.State)+": "+task.Status.Err)
			}
		}
		return len(st) == 6 && len(bad) == 0, strings.Join(bad, ",")
	})
	// Mongo's task created the labelled volume.
	vols, err := d.Client.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", stackspec.LabelStack+"=simswarm"))})
	if err != nil || len(vols.Volumes) != 1 || vols.Volumes[0].Name != "simswarm_mongo-data" {
		t.Fatalf("mongo volume: %v %+v", err, vols.Volumes)
	}

	removed, err := Remove(ctx, d.Client, s, RemoveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("removed %v", removed)
	if len(removed) != 6+2+1 {
		t.Errorf("removed %d objects, want 6 services, 2 networks, 1 secret", len(removed))
	}
	if _, err := d.Client.VolumeInspect(ctx, "simswarm_mongo-data"); err != nil {
		t.Errorf("mongo volume removed without --volumes: %v", err)
	}
	removed, err = Remove(ctx, d.Client, s, RemoveOptions{Volumes: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{"volume/simswarm_mongo-data"}) {
		t.Errorf("second rm removed %v", removed)
	}
	svcs, _ := d.Client.ServiceList(ctx, swarm.ServiceListOptions{})
	if len(svcs) != 0 {
		t.Errorf("%d services left", len(svcs))
	}
	if _, err := d.Client.NetworkInspect(ctx, keepNet.ID, network.InspectOptions{}); err != nil {
		t.Errorf("unlabelled network removed: %v", err)
	}
	if _, err := d.Client.VolumeInspect(ctx, keepVol.Name); err != nil {
		t.Errorf("unlabelled volume removed: %v", err)
	}
}
