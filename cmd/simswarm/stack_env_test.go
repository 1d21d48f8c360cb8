package main

import (
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/stackspec"
)

// TestStackServicesConfigureTheirCommands feeds each simswarm service of
// the rendered stack (args and environment exactly as the swarm would
// start them) to the command's own flag parsing: a value the command does
// not accept (a role name, a URL) would crash-loop the service on every
// node, and only here is it caught without a swarm.
func TestStackServicesConfigureTheirCommands(t *testing.T) {
	s := api.DefaultStack("simswarm")
	d, err := stackspec.Build(s, []stackspec.Node{{ID: "m", Role: stackspec.RoleManager, Availability: "active", State: "ready", NanoCPUs: 4e9}})
	if err != nil {
		t.Fatal(err)
	}
	wantRole := map[string]string{stackspec.Builder: "build", stackspec.Runner: "run"}
	seen := 0
	for _, svc := range d.Services {
		c := svc.Spec.TaskTemplate.ContainerSpec
		if len(c.Args) == 0 || (c.Args[0] != "worker" && c.Args[0] != "controller") {
			continue
		}
		seen++
		t.Run(svc.Component, func(t *testing.T) {
			for _, kv := range c.Env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			root := newRootCmd()
			cmd, _, err := root.Find(c.Args)
			if err != nil {
				t.Fatal(err)
			}
			if err := flagsFromEnv(cmd.Flags()); err != nil {
				t.Fatalf("%s rejects its own environment: %v", svc.Name, err)
			}
			for _, kv := range c.Env {
				k, _, _ := strings.Cut(kv, "=")
				if !strings.HasPrefix(k, "SIMSWARM_") || k == "SIMSWARM_STACK" || k == stackspec.StackManifestEnv {
					continue
				}
				flag := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, "SIMSWARM_")), "_", "-")
				if cmd.Flags().Lookup(flag) == nil {
					t.Errorf("%s sets %s, but `simswarm %s` has no --%s: the setting is silently ignored", svc.Name, k, c.Args[0], flag)
				}
			}
			if want, ok := wantRole[svc.Component]; ok {
				if got, _ := cmd.Flags().GetString("role"); got != want {
					t.Errorf("%s runs a worker with --role %q, want %q", svc.Name, got, want)
				}
				if got, _ := cmd.Flags().GetString("redis"); got != "redis://"+stackspec.Redis+":6379/0" {
					t.Errorf("%s: --redis %q", svc.Name, got)
				}
			}
		})
	}
	if seen != 3 {
		t.Fatalf("%d simswarm services in the stack, want controller, builder, runner", seen)
	}
}
