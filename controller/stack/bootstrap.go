package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/stackspec"
	"go.uber.org/zap"
)

// Admin is the Docker API the bootstrap operations (Deploy, Remove) need
// beyond the reconciler's; *client.Client satisfies it.
type Admin interface {
	Docker
	SecretCreate(ctx context.Context, spec swarm.SecretSpec) (swarm.SecretCreateResponse, error)
	SecretRemove(ctx context.Context, id string) error
	ContainerList(ctx context.Context, opts container.ListOptions) ([]container.Summary, error)
	VolumeList(ctx context.Context, opts volume.ListOptions) (volume.ListResponse, error)
	VolumeRemove(ctx context.Context, id string, force bool) error
}

// DeployOptions tune Deploy.
type DeployOptions struct {
	// Token is the API token stored in the stack's secret when Deploy
	// creates it; empty: a random one is generated and returned. An
	// existing secret is kept (swarm secrets are immutable).
	Token string
	// All converges the whole stack now instead of only the bootstrap
	// components (the controller creates the rest once it leads).
	All    bool
	Logger *zap.Logger
}

// DeployResult says what Deploy did. NewToken is set only when Deploy
// generated the token; show it to the user once, never log it.
type DeployResult struct {
	Result
	SecretCreated bool
	NewToken      string
}

// BootstrapComponents are the services Deploy creates without All: the
// controller and the stores it needs before it can lead (its leader lease
// lives in Redis). The controller creates the rest once it leads.
var BootstrapComponents = []string{stackspec.Controller, stackspec.Redis, stackspec.Mongo}

// Deploy bootstraps the stack on the swarm d talks to: the networks, the
// API token secret, and the controller with Redis and Mongo, pinned to a
// manager (or, with All, every service). It is idempotent.
func Deploy(ctx context.Context, d Admin, s *api.Stack, opts DeployOptions) (DeployResult, error) {
	var out DeployResult
	r, err := New(Config{Stack: s, Docker: d, Logger: opts.Logger})
	if err != nil {
		return out, err
	}
	secret := stackspec.ObjectName(s, s.Spec.Controller.APITokenSecret)
	existing, err := d.SecretList(ctx, swarm.SecretListOptions{Filters: filters.NewArgs(filters.Arg("name", secret))})
	if err != nil {
		return out, fmt.Errorf("list secrets: %w", err)
	}
	if !slices.ContainsFunc(existing, func(x swarm.Secret) bool { return x.Spec.Name == secret }) {
		token := opts.Token
		if token == "" {
			token = newToken()
			out.NewToken = token
		}
		_, err := d.SecretCreate(ctx, swarm.SecretSpec{
			Annotations: swarm.Annotations{Name: secret, Labels: map[string]string{stackspec.LabelStack: s.Metadata.Name}},
			Data:        []byte(token),
		})
		if err != nil {
			return out, fmt.Errorf("create secret %s: %w", secret, err)
		}
		out.SecretCreated = true
	}
	only := map[string]bool{}
	for _, c := range BootstrapComponents {
		only[c] = true
	}
	if opts.All {
		only = nil
	}
	out.Result, err = r.pass(ctx, only)
	return out, err
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ServiceStatus is one stack service as `simswarm stack status` shows it.
type ServiceStatus struct {
	Name      string
	Component string
	Mode      string // "replicated" or "global"
	Desired   uint64 // replicas (replicated) or 0 (global)
	Running   int
	InSync    bool // spec hash matches what the controller would set now
	Present   bool
}

// Status reports every desired service of the stack: present or not,
// running tasks, and whether its spec matches the desired one.
func Status(ctx context.Context, d Docker, s *api.Stack) ([]ServiceStatus, error) {
	nodes, err := d.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var ns []stackspec.Node
	for _, n := range nodes {
		ns = append(ns, stackspec.NodeFromSwarm(n))
	}
	desired, err := stackspec.Build(s, ns)
	if err != nil {
		return nil, err
	}
	label := filters.NewArgs(filters.Arg("label", stackspec.LabelStack+"="+s.Metadata.Name))
	services, err := d.ServiceList(ctx, swarm.ServiceListOptions{Filters: label})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	nets, err := d.NetworkList(ctx, network.ListOptions{Filters: label})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	netNames := map[string]string{}
	for _, n := range nets {
		netNames[n.ID] = n.Name
	}
	var out []ServiceStatus
	for _, w := range desired.Services {
		st := ServiceStatus{Name: w.Name, Component: w.Component, Mode: "replicated"}
		if w.Spec.Mode.Global != nil {
			st.Mode = "global"
		}
		i := slices.IndexFunc(services, func(o swarm.Service) bool { return o.Spec.Name == w.Name })
		if i >= 0 {
			o := services[i]
			st.Present = true
			st.InSync = o.Spec.Labels[stackspec.LabelSpecHash] == w.Hash && stackspec.Fingerprint(o.Spec, netNames) == w.Hash
			if o.Spec.Mode.Replicated != nil && o.Spec.Mode.Replicated.Replicas != nil {
				st.Desired = *o.Spec.Mode.Replicated.Replicas
			}
			tasks, err := d.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
				filters.Arg("service", o.ID), filters.Arg("desired-state", "running"))})
			if err != nil {
				return nil, fmt.Errorf("list tasks of %s: %w", w.Name, err)
			}
			for _, t := range tasks {
				if t.Status.State == swarm.TaskStateRunning {
					st.Running++
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Volumes also removes the stack's volumes (the Mongo data!) once its
	// containers are gone; otherwise they are kept for the next deploy.
	Volumes bool
	// Wait bounds how long Remove waits for containers to stop before
	// removing networks and volumes. Default 60s.
	Wait time.Duration
}

// Remove deletes every object carrying the stack's label: services,
// networks, secrets and, with Volumes, volumes. Unlabelled objects are never
// touched. It returns the removed objects as "kind/name".
func Remove(ctx context.Context, d Admin, s *api.Stack, opts RemoveOptions) ([]string, error) {
	if opts.Wait <= 0 {
		opts.Wait = 60 * time.Second
	}
	label := filters.NewArgs(filters.Arg("label", stackspec.LabelStack+"="+s.Metadata.Name))
	var removed []string
	var errs []error
	services, err := d.ServiceList(ctx, swarm.ServiceListOptions{Filters: label})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	for _, o := range services {
		if o.Spec.Labels[stackspec.LabelStack] != s.Metadata.Name {
			continue
		}
		if err := d.ServiceRemove(ctx, o.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove service %s: %w", o.Spec.Name, err))
			continue
		}
		removed = append(removed, "service/"+o.Spec.Name)
	}
	// Networks and volumes stay in use until the tasks' containers are gone.
	deadline := time.Now().Add(opts.Wait)
	for {
		cs, err := d.ContainerList(ctx, container.ListOptions{All: true, Filters: label})
		if err != nil {
			errs = append(errs, fmt.Errorf("list containers: %w", err))
			break
		}
		if len(cs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("%d stack containers still present after %v", len(cs), opts.Wait))
			break
		}
		select {
		case <-ctx.Done():
			return removed, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	nets, err := d.NetworkList(ctx, network.ListOptions{Filters: label})
	if err != nil {
		errs = append(errs, fmt.Errorf("list networks: %w", err))
	}
	for _, n := range nets {
		if n.Labels[stackspec.LabelStack] != s.Metadata.Name {
			continue
		}
		if err := removeRetrying(ctx, func() error { return d.NetworkRemove(ctx, n.ID) }); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		removed = append(removed, "network/"+n.Name)
	}
	secrets, err := d.SecretList(ctx, swarm.SecretListOptions{Filters: label})
	if err != nil {
		errs = append(errs, fmt.Errorf("list secrets: %w", err))
	}
	for _, sec := range secrets {
		if sec.Spec.Labels[stackspec.LabelStack] != s.Metadata.Name {
			continue
		}
		if err := removeRetrying(ctx, func() error { return d.SecretRemove(ctx, sec.ID) }); err != nil {
			errs = append(errs, fmt.Errorf("remove secret %s: %w", sec.Spec.Name, err))
			continue
		}
		removed = append(removed, "secret/"+sec.Spec.Name)
	}
	if opts.Volumes {
		vols, err := d.VolumeList(ctx, volume.ListOptions{Filters: label})
		if err != nil {
			errs = append(errs, fmt.Errorf("list volumes: %w", err))
		}
		for _, v := range vols.Volumes {
			if v.Labels[stackspec.LabelStack] != s.Metadata.Name {
				continue
			}
			if err := removeRetrying(ctx, func() error { return d.VolumeRemove(ctx, v.Name, false) }); err != nil {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				continue
			}
			removed = append(removed, "volume/"+v.Name)
		}
	}
	return removed, errors.Join(errs...)
}

// removeRetrying retries a removal the engine refuses while a just-stopped
// task still holds the object ("in use"), for a few seconds.
func removeRetrying(ctx context.Context, remove func() error) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := remove()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
