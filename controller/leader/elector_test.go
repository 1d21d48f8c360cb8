package leader

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/test/testproc"
)

const (
	testLease = 1500 * time.Millisecond
	testRetry = 200 * time.Millisecond
)

// TestMain doubles as a candidate process that the tests SIGKILL: with
// LEADER_HELPER_REDIS set it campaigns and prints "LEADING <epoch>".
func TestMain(m *testing.M) {
	if addr := os.Getenv("LEADER_HELPER_REDIS"); addr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		e := &Elector{Client: rdb, Identity: "helper", LeaseDuration: testLease, RetryPeriod: testRetry,
			Callbacks: Callbacks{OnStartedLeading: func(ctx context.Context, epoch int64) {
				fmt.Printf("LEADING %d\n", epoch)
				<-ctx.Done()
			}}}
		_ = e.Run(context.Background())
		os.Exit(0)
	}
	os.Exit(testproc.Main(m))
}

type recorder struct {
	epoch   atomic.Int64
	stopped atomic.Int64
}

func (r *recorder) callbacks() Callbacks {
	return Callbacks{
		OnStartedLeading: func(ctx context.Context, epoch int64) { r.epoch.Store(epoch); <-ctx.Done() },
		OnStoppedLeading: func() { r.stopped.Add(1) },
	}
}

func startElector(t *testing.T, addr, id string, r *recorder, floor func(context.Context) (int64, error)) (*Elector, context.CancelFunc, chan struct{}) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	e := &Elector{Client: rdb, Identity: id, LeaseDuration: testLease, RetryPeriod: testRetry,
		Callbacks: r.callbacks(), EpochFloor: floor}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, cancel, done
}

func waitLeader(t *testing.T, e *Elector, within time.Duration) (time.Duration, int64) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if ok, epoch := e.IsLeader(); ok {
			return time.Since(start), epoch
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not become leader within %v", e.Identity, within)
	return 0, 0
}

func TestStandbyTakesOverWhenLeaderIsKilled(t *testing.T) {
	srv := testdb.StartRedis(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LEADER_HELPER_REDIS="+srv.Addr)
	testproc.Prepare(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testproc.Stop(cmd) })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "LEADING ") {
		t.Fatalf("helper did not lead: %q %v", line, err)
	}
	first, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "LEADING ")), 10, 64)

	var r recorder
	standby, _, _ := startElector(t, srv.Addr, "standby", &r, nil)
	time.Sleep(3 * testRetry)
	if ok, _ := standby.IsLeader(); ok {
		t.Fatal("standby leads while the first candidate holds the lease")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	took, epoch := waitLeader(t, standby, testLease+testRetry+2*time.Second)
	t.Logf("takeover after SIGKILL of the leader: %v (lease %v)", took, testLease)
	if took > testLease+testRetry+500*time.Millisecond {
		t.Fatalf("takeover took %v, more than lease %v + retry %v", took, testLease, testRetry)
	}
	if epoch <= first {
		t.Fatalf("new epoch %d not above the dead leader's %d", epoch, first)
	}
}

func TestGracefulStopHandsOverAtOnce(t *testing.T) {
	srv := testdb.StartRedis(t)
	var ra, rb recorder
	a, cancelA, doneA := startElector(t, srv.Addr, "a", &ra, nil)
	waitLeader(t, a, 5*time.Second)
	b, _, _ := startElector(t, srv.Addr, "b", &rb, nil)
	cancelA()
	<-doneA
	if ra.stopped.Load() != 1 {
		t.Fatalf("OnStoppedLeading called %d times", ra.stopped.Load())
	}
	took, _ := waitLeader(t, b, 5*time.Second)
	if took > testRetry+500*time.Millisecond {
		t.Fatalf("handover after graceful stop took %v (lease not released?)", took)
	}
}

func TestLeaderStepsDownWhenLeaseIsTaken(t *testing.T) {
	srv := testdb.StartRedis(t)
	var r recorder
	a, _, _ := startElector(t, srv.Addr, "a", &r, nil)
	waitLeader(t, a, 5*time.Second)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if err := rdb.Set(context.Background(), DefaultKey, "intruder", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for r.stopped.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("leader kept leading after its lease was taken")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, _ := rdb.Get(context.Background(), DefaultKey).Result(); v != "intruder" {
		t.Fatalf("deposed leader released someone else's lease: %q", v)
	}
}

func TestEpochStaysAboveFloorAfterRedisWipe(t *testing.T) {
	srv := testdb.StartRedis(t)
	var r recorder
	a, _, _ := startElector(t, srv.Addr, "a", &r, func(context.Context) (int64, error) { return 41, nil })
	_, epoch := waitLeader(t, a, 5*time.Second)
	if epoch != 42 {
		t.Fatalf("epoch = %d, want 42 (floor 41 + 1)", epoch)
	}
}
