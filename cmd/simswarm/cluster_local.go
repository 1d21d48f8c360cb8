package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/simswarm/simswarm/infra/local"
	"github.com/spf13/cobra"
)

func newClusterLocalCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "local",
		Short: "Make a swarm of machines you have: init on the manager, join on the others",
		Long: `Your own machines as one swarm. On the machine that will be the manager:

  simswarm cluster local init --advertise-addr 192.168.1.10

It prints the join command; run that on every other machine:

  simswarm cluster local join --token SWMTKN-1-... 192.168.1.10:2377

then deploy simswarm on the manager with "simswarm stack deploy". Both talk to
the engine DOCKER_HOST names (default: the local socket). Open TCP 2377 and
7946 and UDP 7946 and 4789 between the machines.`,
	}
	c.AddCommand(newClusterLocalInitCmd(g), newClusterLocalJoinCmd(g))
	return c
}

func newClusterLocalInitCmd(g *globals) *cobra.Command {
	var o local.InitOptions
	c := &cobra.Command{
		Use:   "init",
		Short: "Make this machine's engine a swarm manager and print the join command",
		Long: `Run docker swarm init on the engine DOCKER_HOST names and print the command the
other machines run to join. On a machine that already is a manager it changes
nothing and prints the join command again.

  simswarm cluster local init
  simswarm cluster local init --advertise-addr 192.168.1.10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return invalidInput(err)
			}
			dc, err := dockerClient()
			if err != nil {
				return err
			}
			defer dc.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			res, err := local.Init(ctx, dc, o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if res.Created {
				fmt.Fprintf(out, "this machine is now a swarm manager (node %s)\n", res.NodeID)
			} else {
				fmt.Fprintf(out, "this machine already is a swarm manager (node %s)\n", res.NodeID)
			}
			// The token is shown to the user who asked, never logged.
			fmt.Fprintf(out, "on every other machine, run:\n  %s\nthen, here: simswarm stack deploy\n", res.JoinCommand())
			return nil
		},
	}
	c.Flags().StringVar(&o.AdvertiseAddr, "advertise-addr", "", "address the other machines reach this one at (IP, interface or IP:port)")
	c.Flags().StringVar(&o.ListenAddr, "listen-addr", "", "swarm listen address (default 0.0.0.0:2377)")
	c.Flags().Uint32Var(&o.DataPathPort, "data-path-port", 0, "UDP port of overlay traffic (default 4789)")
	c.Flags().StringSliceVar(&o.DefaultAddrPool, "default-addr-pool", nil, "CIDR the overlay networks' subnets come from (default 10.0.0.0/8; repeatable)")
	c.Flags().Uint32Var(&o.SubnetSize, "default-addr-pool-mask-length", 0, "mask length of those subnets (default 24)")
	return c
}

func newClusterLocalJoinCmd(g *globals) *cobra.Command {
	var o local.JoinOptions
	var tokenFile string
	c := &cobra.Command{
		Use:   "join --token TOKEN MANAGER[:PORT]",
		Short: "Join this machine's engine to the swarm as a worker",
		Long: `Join the engine DOCKER_HOST names to the swarm of MANAGER as a worker, with the
token "simswarm cluster local init" printed. The token may also come from
--token-file or SIMSWARM_JOIN_TOKEN (which keeps it out of the process list).
On a machine already in a swarm it changes nothing.

  simswarm cluster local join --token SWMTKN-1-... 192.168.1.10:2377
  SIMSWARM_JOIN_TOKEN=SWMTKN-1-... simswarm cluster local join 192.168.1.10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Manager = args[0]
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return invalidInput(fmt.Errorf("--token-file: %w", err))
				}
				o.Token = strings.TrimSpace(string(b))
			}
			if o.Token == "" {
				o.Token = os.Getenv("SIMSWARM_JOIN_TOKEN")
			}
			if o.Token == "" {
				return invalidInput(errors.New("no join token: give --token, --token-file or SIMSWARM_JOIN_TOKEN (simswarm cluster local init prints it)"))
			}
			if _, err := local.ManagerAddress(o.Manager); err != nil {
				return invalidInput(err)
			}
			dc, err := dockerClient()
			if err != nil {
				return err
			}
			defer dc.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			res, err := local.Join(ctx, dc, o)
			if err != nil {
				return err
			}
			if res.AlreadyMember {
				fmt.Fprintf(cmd.OutOrStdout(), "this machine already is in a swarm (node %s); nothing changed\n", res.NodeID)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "joined the swarm of %s as a worker (node %s)\n", o.Manager, res.NodeID)
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.Token, "token", "", "worker join token (SWMTKN-1-...)")
	c.Flags().StringVar(&tokenFile, "token-file", "", "file holding the join token")
	c.Flags().StringVar(&o.AdvertiseAddr, "advertise-addr", "", "address the swarm reaches this machine at")
	c.Flags().StringVar(&o.ListenAddr, "listen-addr", "", "swarm listen address (default 0.0.0.0:2377)")
	return c
}
