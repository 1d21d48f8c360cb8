package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/workers/worker"
)

func newWorkerCmd(g *globals) *cobra.Command {
	var (
		role, redisURL, mongoURI, cache, distccHosts, name, nodeID string
		slots, prefetch                                            int
		shutdownGrace, distccWait                                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "worker --role build|run --redis URL --mongo URI",
		Short: "Run a builder or runner: take tasks from the queue and carry them out",
		Long: `A worker takes tasks from the Redis queue that the controller fills:

  --role run     executes simulation runs, --slots at a time: fetches the build
                 artifact once per key into --cache, runs the simulation with its
                 timeout, stores result files in MongoDB GridFS, records the outcome.
                 It also holds up to --prefetch tasks waiting for a slot, so that
                 a slot starts its next run while the last one's results are being
                 stored; runs stored at once share their database writes.
  --role build   builds a campaign's model once: git checkout or the uploaded
                 source archive, make -jN (through distcc when hosts are known:
                 --distcc-hosts, or the list the controller keeps in Redis),
                 then stores the artifacts under the build's content key.

In a stack, one runner runs per node with --node-id (SIMSWARM_NODE_ID, the
node's swarm ID): it takes as many slots as the stack's controller publishes
for that node (its CPUs minus the manager's reserve), waits until a count is
published, and re-sizes itself when the count changes.

Workers are disposable: SIGTERM hands unfinished tasks back to the queue; a
worker that dies has its task redelivered after its lease runs out; after a
Redis or MongoDB outage it reconnects by itself. Every flag can also be set
as SIMSWARM_<FLAG>, e.g. SIMSWARM_REDIS, SIMSWARM_SLOTS.

With --prefetch a task can wait behind a busy slot while another worker is
idle; that costs nothing with short runs and at most one run's time per task
at a campaign's end. For long runs of very uneven length, --prefetch 0.

Examples:
  simswarm worker --role run --slots 8 --redis redis://manager:6379/0 --mongo mongodb://manager:27017/simswarm
  simswarm worker --role build --distcc-hosts "node1 node2 node3"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd.Flags()); err != nil {
				return err
			}
			if role != "run" && role != "build" {
				return invalidInput(fmt.Errorf("--role: %q is not build or run", role))
			}
			if nodeID != "" && role != "run" {
				return invalidInput(fmt.Errorf("--node-id: only a runner (--role run) is sized by its node"))
			}
			if slots < 1 && nodeID == "" {
				return invalidInput(fmt.Errorf("--slots: %d is not a number of slots (must be at least 1)", slots))
			}
			ropt, err := redis.ParseURL(redisURL)
			if err != nil {
				return invalidInput(fmt.Errorf("--redis: %w", err))
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return worker.Run(ctx, worker.Config{Role: worker.Role(role), Name: name, Redis: ropt, MongoURI: mongoURI,
				Cache: cache, Slots: slots, NodeID: nodeID, Prefetch: prefetch, ShutdownGrace: shutdownGrace,
				DistccHosts: distccHosts, DistccWait: distccWait, Log: log})
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "run", "build or run")
	f.StringVar(&redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis URL (the queue)")
	f.StringVar(&mongoURI, "mongo", "mongodb://127.0.0.1:27017/simswarm", "MongoDB URI (records and GridFS)")
	f.IntVar(&slots, "slots", 1, "tasks carried out at once (a runner: simulations, one per CPU it may use)")
	f.StringVar(&nodeID, "node-id", "", "with --role run: the swarm node's ID; the runner then runs as many simulations at once as the controller publishes for this node (--slots is not used) and waits until it does")
	f.IntVar(&prefetch, "prefetch", -1, "with --role run: tasks held beyond --slots, waiting for a slot (-1: as many as --slots); with --node-id, per slot")
	f.StringVar(&cache, "cache", filepath.Join(os.TempDir(), "simswarm-worker"), "directory for unpacked artifacts and work files")
	f.StringVar(&distccHosts, "distcc-hosts", "", "with --role build: distcc hosts when Redis holds no list (DISTCC_HOSTS syntax)")
	f.DurationVar(&distccWait, "distcc-wait", 0, "with --role build: how long a build waits for a distcc host list before compiling locally")
	f.StringVar(&name, "name", "", "worker name on records and heartbeats (default host-role-pid)")
	f.DurationVar(&shutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM, how long running tasks may finish before they are handed back")
	return cmd
}
