package stack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/stackspec"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/testdb"
	"go.uber.org/zap/zaptest"
)

// distccPackages is the toolchain of the test worker image: the compiler
// distccd runs for the builder, and the distcc client.
var distccPackages = []string{"distcc", "gcc", "libc6-dev", "make"}

// TestDistccServiceCompilesForPublishedHosts runs the stack's global distcc
// service with real distccd (a Debian image built with debootstrap, cached
// per machine), and compiles a file from a container on buildnet through
// exactly the host list the reconciler published to Redis, with local
// fallback disabled: the compile can only succeed on a distcc task.
func TestDistccServiceCompilesForPublishedHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a debootstrapped Debian image (built once per machine)")
	}
	d := dockertest.Start(t)
	d.ImportGoImage(t, testImage, "github.com/simswarm/simswarm/test/dockerd/testapp", "/usr/bin/distccd")
	d.ImportDebianImage(t, "simswarm-test/debian-distcc:1", distccPackages)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testStack(t, d)
	s.Spec.Images.Distcc = "simswarm-test/debian-distcc:1"
	if _, err := d.Client.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "simswarm_api-token"}, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	rec, err := New(Config{Stack: s, Docker: d.Client, Events: d.Client, Hosts: RedisHosts{Client: rdb},
		Logger: zaptest.NewLogger(t), Resync: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var hosts string
	eventually(t, 2*time.Minute, "distcc hosts published", func() (bool, string) {
		hosts, _ = rdb.Get(ctx, schema.DistccHostsKey).Result()
		return hosts != "", "none yet"
	})
	t.Logf("published distcc hosts %q", hosts)
	// distccd needs a moment after its task starts to listen.
	var out string
	eventually(t, 30*time.Second, "remote compile through distcc", func() (bool, string) {
		o, err := d.TryCLI(nil, "run", "--rm", "--network", stackspec.ObjectName(s, stackspec.Buildnet),
			"-e", "DISTCC_HOSTS="+hosts, "-e", "DISTCC_FALLBACK=0", "-e", "DISTCC_VERBOSE=1", "-e", "DISTCC_SKIP_LOCAL_RETRY=1",
			"simswarm-test/debian-distcc:1", "sh", "-c",
			`printf 'int twice(int x) { return 2 * x; }\n' > /tmp/t.c && cd /tmp && distcc gcc -c t.c -o t.o && test -s t.o`)
		out = o
		return err == nil, fmt.Sprint(err, "\n", tail(o, 1500))
	})
	if want := "compile t.c on " + strings.Fields(hosts)[0] + " completed ok"; !strings.Contains(out, want) {
		t.Errorf("distcc did not report %q:\n%s", want, tail(out, 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
