package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/client"
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/httpauth"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/stackspec"
	"github.com/spf13/cobra"
)

// stackFlags are the flags every stack subcommand shares.
type stackFlags struct {
	file string
	name string
}

func (f *stackFlags) register(c *cobra.Command) {
	c.Flags().StringVarP(&f.file, "file", "f", "", "Stack manifest (kind Stack); default: every default")
	c.Flags().StringVar(&f.name, "name", "", "stack name (overrides metadata.name; default "+api.DefaultStackName+")")
}

// load reads, defaults and validates the Stack.
func (f *stackFlags) load() (*api.Stack, error) {
	var s *api.Stack
	if f.file != "" {
		var err error
		if s, err = api.LoadStackFile(f.file); err != nil {
			return nil, invalidInput(err)
		}
	} else {
		s = api.DefaultStack(api.DefaultStackName)
	}
	if f.name != "" {
		s.Metadata.Name = f.name
	}
	if err := api.ValidateStack(s); err != nil {
		return nil, invalidInput(err)
	}
	return s, nil
}

func newStackCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "stack",
		Short: "Render, deploy, inspect and remove simswarm's own swarm stack",
		Long: `The stack is simswarm on a Docker Swarm: controller (API + dashboard on the one
published port), redis, mongo, builder, CPU-reserved runners, global distcc,
optional visualizer, overlay networks interlink and buildnet.

"stack deploy" bootstraps it on the swarm DOCKER_HOST points at (networks,
API token secret, controller with redis and mongo pinned to a manager); the
controller then keeps the rest converged. "stack render" prints the same stack as a compose file for
"docker stack deploy".`,
	}
	c.AddCommand(newStackRenderCmd(), newStackDeployCmd(g), newStackStatusCmd(), newStackRmCmd())
	return c
}

func newStackRenderCmd() *cobra.Command {
	var f stackFlags
	var nodeFlags []string
	c := &cobra.Command{
		Use:   "render",
		Short: "Print the stack as a compose v3.8 file for docker stack deploy",
		Long: `Print the stack as a compose file. It is the same whatever the swarm's
nodes: the runner service is global (one runner per node) and the stack's
controller publishes each node's slot count once it runs. --node ROLE:CPUS
(repeatable) is still accepted and checked, and changes nothing. Deploy under
the stack's name: docker stack deploy -c FILE NAME.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.load()
			if err != nil {
				return err
			}
			nodes, err := parseNodes(nodeFlags)
			if err != nil {
				return invalidInput(err)
			}
			out, err := stackspec.Compose(s, nodes)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f.register(c)
	c.Flags().StringArrayVar(&nodeFlags, "node", nil, "a swarm node as ROLE:CPUS (manager or worker), repeatable; changes nothing since runners are one per node")
	return c
}

// parseNodes turns --node ROLE:CPUS flags into nodes.
func parseNodes(flags []string) ([]stackspec.Node, error) {
	if len(flags) == 0 {
		flags = []string{"manager:" + strconv.Itoa(runtime.NumCPU())}
	}
	var nodes []stackspec.Node
	for i, fl := range flags {
		role, cpus, ok := strings.Cut(fl, ":")
		n, err := strconv.ParseFloat(cpus, 64)
		if !ok || (role != stackspec.RoleManager && role != stackspec.RoleWorker) || err != nil || n < 0 || n > 4096 {
			return nil, fmt.Errorf("--node %q: want ROLE:CPUS with ROLE manager or worker, e.g. worker:8", fl)
		}
		nodes = append(nodes, stackspec.Node{
			ID: fmt.Sprintf("node%d", i), Hostname: fmt.Sprintf("node%d", i), Role: role,
			Availability: stackspec.AvailabilityActive, State: stackspec.StateReady, NanoCPUs: int64(n * 1e9),
		})
	}
	return nodes, nil
}

// dockerClient talks to the engine DOCKER_HOST (or the default socket)
// names, negotiating the API version (Debian's 20.10 speaks 1.41).
func dockerClient() (*client.Client, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return c, nil
}

func newStackDeployCmd(g *globals) *cobra.Command {
	var f stackFlags
	var tokenFile string
	var all bool
	c := &cobra.Command{
		Use:   "deploy",
		Short: "Bootstrap the stack: networks, API token secret, controller with redis and mongo (the controller creates the rest)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.load()
			if err != nil {
				return err
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			var token string
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return invalidInput(fmt.Errorf("--token-file: %w", err))
				}
				token = strings.TrimSpace(string(b))
				if err := httpauth.CheckToken(token, tokenSource(tokenFile)); err != nil {
					return invalidInput(err)
				}
			}
			dc, err := dockerClient()
			if err != nil {
				return err
			}
			defer dc.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			res, err := stack.Deploy(ctx, dc, s, stack.DeployOptions{Token: token, All: all, Logger: log})
			w := cmd.OutOrStdout()
			for _, o := range res.Created {
				fmt.Fprintln(w, "created", o)
			}
			for _, o := range res.Updated {
				fmt.Fprintln(w, "updated", o)
			}
			if res.SecretCreated {
				fmt.Fprintln(w, "created secret", stackspec.ObjectName(s, s.Spec.Controller.APITokenSecret))
			}
			if res.NewToken != "" {
				// Shown once, to the user who deployed; never logged.
				fmt.Fprintln(w, "API token (keep it; it is not shown again):", res.NewToken)
			}
			if err != nil {
				return fmt.Errorf("stack deploy: %w", err)
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().StringVar(&tokenFile, "token-file", "", "file holding the API token (default: generate one)")
	c.Flags().BoolVar(&all, "all", false, "create every service now instead of leaving that to the controller")
	return c
}

func newStackStatusCmd() *cobra.Command {
	var f stackFlags
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the stack's services: present, running tasks, in sync with the desired spec",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.load()
			if err != nil {
				return err
			}
			dc, err := dockerClient()
			if err != nil {
				return err
			}
			defer dc.Close()
			st, err := stack.Status(cmd.Context(), dc, s)
			if err != nil {
				return fmt.Errorf("stack status: %w", err)
			}
			return printStatus(cmd.OutOrStdout(), st)
		},
	}
	f.register(c)
	return c
}

func printStatus(out io.Writer, st []stack.ServiceStatus) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tMODE\tRUNNING\tSPEC")
	for _, s := range st {
		running := "-"
		spec := "missing"
		if s.Present {
			spec = "drifted"
			if s.InSync {
				spec = "in sync"
			}
			running = strconv.Itoa(s.Running)
			if s.Mode == "replicated" {
				running += "/" + strconv.FormatUint(s.Desired, 10)
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, s.Mode, running, spec)
	}
	return w.Flush()
}

func newStackRmCmd() *cobra.Command {
	var f stackFlags
	var volumes bool
	c := &cobra.Command{
		Use:   "rm",
		Short: "Remove everything labelled as the stack's (keeps the mongo volume unless --volumes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.load()
			if err != nil {
				return err
			}
			dc, err := dockerClient()
			if err != nil {
				return err
			}
			defer dc.Close()
			removed, err := stack.Remove(cmd.Context(), dc, s, stack.RemoveOptions{Volumes: volumes})
			for _, o := range removed {
				fmt.Fprintln(cmd.OutOrStdout(), "removed", o)
			}
			if err != nil {
				return fmt.Errorf("stack rm: %w", err)
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVar(&volumes, "volumes", false, "also remove the stack's volumes (the database!)")
	return c
}
