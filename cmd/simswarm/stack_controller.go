package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/stackspec"
	"go.uber.org/zap"
)

// stackRunnables returns the stack reconciler as a leader-only runnable of
// the manager when the controller runs as the controller service of a simswarm
// stack, i.e. when SIMSWARM_STACK_MANIFEST holds the Stack; otherwise none.
// It talks to the engine DOCKER_HOST names (the service mounts the manager's
// socket) and publishes the distcc host list to the controller's Redis.
//
// The runnable also observes the swarm for the dashboard
// (dashboard.SwarmObserver); onPass, if set, is told about every pass
// (metrics).
func stackRunnables(log *zap.Logger, redisURL string, onPass func(time.Duration, error)) ([]manager.Runnable, error) {
	raw := os.Getenv(stackspec.StackManifestEnv)
	if raw == "" {
		return nil, nil
	}
	s, err := api.ParseStack([]byte(raw), stackspec.StackManifestEnv)
	if err != nil {
		return nil, invalidInput(err)
	}
	api.SetStackDefaults(s)
	if err := api.ValidateStack(s); err != nil {
		return nil, invalidInput(fmt.Errorf("%s: %w", stackspec.StackManifestEnv, err))
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, invalidInput(fmt.Errorf("--redis: %w", err))
	}
	dc, err := dockerClient()
	if err != nil {
		return nil, err
	}
	pub := stack.RedisHosts{Client: redis.NewClient(opt)}
	rec, err := stack.New(stack.Config{
		Stack: s, Docker: dc, Events: dc,
		Hosts: pub, Slots: pub,
		Logger: log.Named("stack"),
		OnPass: onPass,
	})
	if err != nil {
		return nil, err
	}
	return []manager.Runnable{stackRunnable{rec}}, nil
}

// stackRunnable runs the stack reconciler for as long as this controller
// leads (the manager cancels ctx when leadership ends).
type stackRunnable struct{ rec *stack.Reconciler }

// Observe shows the swarm on the dashboard, on every instance (leading or
// not).
func (s stackRunnable) Observe(ctx context.Context) (*stack.Observation, error) {
	return s.rec.Observe(ctx)
}

func (s stackRunnable) Start(ctx context.Context) error {
	if err := s.rec.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stack reconciler: %w", err)
	}
	return nil
}
