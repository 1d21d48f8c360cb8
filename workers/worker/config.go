package worker

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/workers/runner"
)

// Role is what a worker does: the queue it takes tasks from and the
// handler that carries them out.
type Role string

const (
	// RoleRun executes simulation runs (queue schema.QueueRun).
	RoleRun Role = "run"
	// RoleBuild builds campaigns' models (queue schema.QueueBuild).
	RoleBuild Role = "build"
)

// Config configures a worker process.
type Config struct {
	Role Role
	// Name names the worker on records and heartbeats. Default
	// host-role-pid.
	Name string
	// Redis is the queue's server. Run makes two clients of it: one for
	// the heartbeat and the announcements, one for the queue.
	Redis *redis.Options
	// MongoURI is the database of records and GridFS
	// (mongodb://host:port/db).
	MongoURI string
	// Cache is the directory of unpacked artifacts (artifacts/) and work
	// files (runs/ or builds/, one claimed directory per worker process);
	// worker processes on one host may share it.
	Cache string

	// Slots is how many tasks are carried out at once; for a runner, the
	// simulations at once (one per CPU it may use). At least 1, unless
	// NodeID is set.
	Slots int
	// NodeID, for a runner, is its swarm node's ID: the runner then runs as
	// many simulations at once as the count published for that node under
	// schema.RunnerSlotsKey (Slots is not used), waits while there is none
	// or it is 0, and re-sizes when it changes (see the package
	// documentation).
	NodeID string
	// SlotsCheck is how often a runner with a NodeID reads its count
	// (default 5 s).
	SlotsCheck time.Duration
	// Prefetch is, for a runner, how many tasks it holds beyond Slots,
	// waiting for a slot; negative: as many as Slots. With a NodeID it is
	// per slot (negative: one), as the count is not known in advance.
	Prefetch int
	// ShutdownGrace is how long running tasks may finish once ctx ends
	// before they are handed back to the queue.
	ShutdownGrace time.Duration

	// DistccHosts are, for a builder, the distcc hosts when Redis holds no
	// list (DISTCC_HOSTS syntax); DistccWait how long a build waits for a
	// list before compiling locally.
	DistccHosts string
	DistccWait  time.Duration

	// Log is the worker's logger (default none); Run adds the worker's
	// name and role.
	Log *zap.Logger
	// Exec runs a runner's simulations; nil: each is a process. Only the
	// scale harness sets it (a timer instead of a process).
	Exec runner.Executor
	// Ready, if set, is closed once the worker takes tasks.
	Ready chan<- struct{}
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Role != RoleRun && c.Role != RoleBuild {
		return c, fmt.Errorf("role: %q is not %s or %s", c.Role, RoleBuild, RoleRun)
	}
	if c.NodeID != "" && c.Role != RoleRun {
		return c, fmt.Errorf("node ID: only a runner is sized by its node (role %s)", c.Role)
	}
	if c.Slots < 1 && c.NodeID == "" {
		return c, fmt.Errorf("slots: %d is not a number of slots (must be at least 1)", c.Slots)
	}
	if c.SlotsCheck <= 0 {
		c.SlotsCheck = defaultSlotsCheck
	}
	if c.Redis == nil {
		return c, errors.New("redis: no server")
	}
	if c.Cache == "" {
		return c, errors.New("cache: no directory")
	}
	if c.Prefetch < 0 && c.NodeID == "" {
		c.Prefetch = c.Slots
	}
	if c.Role == RoleBuild {
		c.Prefetch = 0
	}
	if c.Name == "" {
		host, _ := os.Hostname()
		c.Name = fmt.Sprintf("%s-%s-%d", host, c.Role, os.Getpid())
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	c.Log = c.Log.With(zap.String("worker", c.Name), zap.String("role", string(c.Role)))
	return c, nil
}
