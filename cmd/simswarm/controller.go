package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/httpauth"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/manifests"
	"github.com/simswarm/simswarm/controller/metrics"
)

func newControllerCmd(g *globals) *cobra.Command {
	var (
		listen, redisURL, mongoURI, tokenFile, manifestDir string
		gitURL, gitRef, gitDir, trustedProxies             string
		prune                                              bool
		lease, resync, gitInterval                         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the controller: campaign API, leader election, reconcilers",
		Long: `Run the controller. Every instance serves, on --listen, the HTTP API, the
dashboard (http://ADDR/ui/, log in with the API token) and Prometheus metrics
(/metrics, the API token as bearer token); the instance holding the Redis
leader lease reconciles campaigns (run records, build and run tasks in the
queue) and applies the manifest directory given with --manifests.
Every flag can also be given as SIMSWARM_<FLAG>, e.g. SIMSWARM_REDIS.

Examples:
  export SIMSWARM_TOKEN=$(openssl rand -hex 32)   # at least 16 characters
  simswarm controller --listen 127.0.0.1:8080 \
      --redis redis://127.0.0.1:6379/0 --mongo mongodb://127.0.0.1:27017/simswarm
  # then open http://127.0.0.1:8080/ in a browser
  curl -H "Authorization: Bearer $SIMSWARM_TOKEN" http://127.0.0.1:8080/metrics`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd.Flags()); err != nil {
				return err
			}
			if err := positiveDurations(cmd.Flags(), "lease", "resync", "git-interval"); err != nil {
				return err
			}
			token, err := readServerToken(tokenFile)
			if err != nil {
				return err
			}
			proxies, err := httpauth.ParsePrefixes(trustedProxies)
			if err != nil {
				return invalidInput(fmt.Errorf("--trusted-proxies: %w", err))
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg := manager.Config{Listen: listen, RedisURL: redisURL, MongoURI: mongoURI, Token: token,
				TrustedProxies: proxies, LeaseDuration: lease, Resync: resync, Logger: log}
			cfg.Metrics = metrics.New()
			// Set when running as a stack's controller service.
			stackRuns, err := stackRunnables(log, redisURL, cfg.Metrics.ObserveReconcile(metrics.ReconcilerStack))
			if err != nil {
				return err
			}
			cfg.Runnables = append(cfg.Runnables, stackRuns...)
			for _, r := range stackRuns {
				if o, ok := r.(dashboard.SwarmObserver); ok {
					cfg.Swarm = o
				}
			}
			mgr, err := manager.New(ctx, cfg)
			if err != nil {
				return err
			}
			if manifestDir != "" {
				mgr.Add(&manifests.Dir{Path: manifestDir, Prune: prune,
					Resync: resync, Logger: log.Named("manifests"), Store: mgr.Store(), Notify: mgr.Notify})
			}
			if gitURL != "" {
				mgr.Add(&manifests.GitSource{URL: gitURL, Ref: gitRef, SubDir: gitDir,
					Interval: gitInterval, Prune: prune, Logger: log.Named("gitops"),
					Store: mgr.Store(), Notify: mgr.Notify})
			}
			log.Info("starting controller", zap.String("listen", listen))
			return mgr.Start(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "address of the API, the dashboard (/ui/) and /metrics")
	f.StringVar(&redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis URL (queue and leader lease)")
	f.StringVar(&mongoURI, "mongo", "mongodb://127.0.0.1:27017/simswarm", "MongoDB URI (campaigns, runs, GridFS)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the API bearer token, at least 16 characters (or SIMSWARM_TOKEN)")
	f.StringVar(&manifestDir, "manifests", "", "directory of Campaign manifests to keep applied (GitOps)")
	f.BoolVar(&prune, "prune", false, "with --manifests/--git: delete campaigns whose manifest file disappeared (results are kept)")
	f.StringVar(&gitURL, "git", "", "git repository of Campaign manifests to keep applied (GitOps)")
	f.StringVar(&gitRef, "git-ref", "HEAD", "with --git: branch, tag or commit to follow")
	f.StringVar(&gitDir, "git-dir", "", "with --git: manifest directory inside the repository")
	f.StringVar(&trustedProxies, "trusted-proxies", "", "comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For names the client (failed logins and tokens are limited per client address; default: the connection's address)")
	f.DurationVar(&gitInterval, "git-interval", time.Minute, "with --git: poll period")
	f.DurationVar(&lease, "lease", 15*time.Second, "leader lease duration (a standby takes over within it)")
	f.DurationVar(&resync, "resync", 30*time.Second, "full resync period")
	return cmd
}
