package stack

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func specWithImage(image string, force uint64) swarm.ServiceSpec {
	return swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{
		ContainerSpec: &swarm.ContainerSpec{Image: image}, ForceUpdate: force,
	}}
}

// TestKeepUnownedKeepsForceUpdateAndAPinnedDigestOnly: the update keeps
// the daemon's digest of the image simswarm still wants, but not the
// digest of an image it replaces, and always the ForceUpdate counter.
func TestKeepUnownedKeepsForceUpdateAndAPinnedDigestOnly(t *testing.T) {
	const pinned = "simswarm/worker:1@sha256:0123abcd"
	for _, tc := range []struct {
		name, observed, want, sent string
	}{
		{"digest of the same tag kept", pinned, "simswarm/worker:1", pinned},
		{"new tag replaces the pinned one", pinned, "simswarm/worker:2", "simswarm/worker:2"},
		{"unpinned stays as wanted", "simswarm/worker:1", "simswarm/worker:1", "simswarm/worker:1"},
		{"wanted digest wins", pinned, "simswarm/worker:1@sha256:ffff", "simswarm/worker:1@sha256:ffff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := specWithImage(tc.want, 0)
			got := keepUnowned(specWithImage(tc.observed, 3), want)
			if got.TaskTemplate.ContainerSpec.Image != tc.sent {
				t.Errorf("image sent %q, want %q", got.TaskTemplate.ContainerSpec.Image, tc.sent)
			}
			if got.TaskTemplate.ForceUpdate != 3 {
				t.Errorf("ForceUpdate sent %d, want the observed 3", got.TaskTemplate.ForceUpdate)
			}
			if want.TaskTemplate.ContainerSpec.Image != tc.want {
				t.Errorf("the desired spec was modified: %q", want.TaskTemplate.ContainerSpec.Image)
			}
		})
	}
}
