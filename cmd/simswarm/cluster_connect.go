package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/infra/aws"
	"github.com/simswarm/simswarm/infra/tunnel"
	"github.com/spf13/cobra"
)

func newClusterAWSConnectCmd(g *globals) *cobra.Command {
	var f awsFlags
	var localPort, remotePort, sshPort int
	var address, sshUser, identity, remoteSocket string
	var dockerSocket bool
	c := &cobra.Command{
		Use:   "connect",
		Short: "Open an SSH tunnel: the API and dashboard on localhost, the manager's engine on a local socket",
		Long: `Start ssh in the background with port forwards to the manager: the controller's
API and dashboard (the stack's published port, 8080) on 127.0.0.1:--local-port,
and the manager's Docker engine on a unix socket in your runtime directory, so
that "simswarm stack deploy" and docker work from here. The ssh process is
recorded in a PID file ($XDG_RUNTIME_DIR/simswarm/tunnel-aws-NAME.json);
running connect again reuses a live tunnel, "disconnect" ends exactly it.

The manager's host key is read from its console output (cloud-init prints it)
and checked strictly; until the console shows it, the first key presented is
recorded and any later change is refused.

  simswarm cluster aws connect --name lab
  curl -H "Authorization: Bearer $SIMSWARM_TOKEN" http://127.0.0.1:8080/...
  simswarm cluster aws connect --local-port 18080 --address 172.31.5.9   # over a VPN`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			for name, port := range map[string]int{"--local-port": localPort, "--remote-port": remotePort, "--ssh-port": sshPort} {
				if port < 1 || port > 65535 {
					return invalidInput(fmt.Errorf("%s: %d is not a port", name, port))
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			log, err := g.logger()
			if err != nil {
				return err
			}
			p, err := f.provider(ctx, log)
			if err != nil {
				return err
			}
			st, err := p.Status(ctx, f.name)
			if err != nil {
				return err
			}
			if st.Manager == nil {
				return fmt.Errorf("cluster %s has no manager in %s (simswarm cluster aws up)", f.name, st.Region)
			}
			if st.Manager.State != "running" {
				return fmt.Errorf("the manager %s is %s (simswarm cluster aws resume)", st.Manager.ID, st.Manager.State)
			}
			host := address
			if host == "" {
				host = st.Manager.PublicIP
			}
			if host == "" {
				return errors.New("the manager has no public address: pass --address (its private address, over a VPN)")
			}
			stateDir, err := aws.StateDir(f.name)
			if err != nil {
				return err
			}
			if identity == "" {
				if _, err := os.Stat(aws.KeyFile(stateDir)); err == nil {
					identity = aws.KeyFile(stateDir)
				}
			}
			knownHosts := aws.KnownHostsFile(stateDir)
			strict := "yes"
			if _, err := os.Stat(knownHosts); err != nil {
				keys, err := p.HostKeys(ctx, st.Manager.ID)
				switch {
				case err == nil:
					if err := aws.WriteKnownHosts(knownHosts, aws.HostKeyAlias(f.name), keys); err != nil {
						return fmt.Errorf("write %s: %w", knownHosts, err)
					}
				case errors.Is(err, aws.ErrNoHostKeys):
					fmt.Fprintln(cmd.ErrOrStderr(), "warning: the manager's console shows no host keys yet; trusting the key it presents now and refusing any other later")
					strict = "accept-new"
					if err := os.MkdirAll(stateDir, 0o700); err != nil {
						return err
					}
				default:
					return err
				}
			}
			dir, err := tunnel.DefaultDir()
			if err != nil {
				return err
			}
			fwd := []tunnel.Forward{{Local: "127.0.0.1:" + strconv.Itoa(localPort), Remote: "127.0.0.1:" + strconv.Itoa(remotePort)}}
			sock := filepath.Join(dir, f.tunnelName()+"-docker.sock")
			if dockerSocket {
				fwd = append(fwd, tunnel.Forward{Local: sock, Remote: remoteSocket})
			}
			m := tunnel.Manager{Dir: dir, Logger: log}
			info, err := m.Connect(ctx, tunnel.Spec{
				Name: f.tunnelName(), Host: host, Port: sshPort, User: sshUser, IdentityFile: identity,
				KnownHostsFile: knownHosts, StrictHostKeyChecking: strict, HostKeyAlias: aws.HostKeyAlias(f.name), Forwards: fwd,
			})
			if err != nil {
				return err
			}
			if info.Reused {
				fmt.Fprintf(out, "tunnel already running (ssh pid %d)\n", info.PID)
			} else {
				fmt.Fprintf(out, "tunnel up (ssh pid %d, PID file %s)\n", info.PID, info.PIDFile)
			}
			fmt.Fprintf(out, "API and dashboard: http://127.0.0.1:%d\n", localPort)
			if dockerSocket {
				fmt.Fprintf(out, "Docker engine:     export DOCKER_HOST=unix://%s\n", sock)
			}
			fmt.Fprintf(out, "close it with:     simswarm cluster aws disconnect --name %s\n", f.name)
			return nil
		},
	}
	f.register(c)
	fl := c.Flags()
	fl.IntVar(&localPort, "local-port", int(api.DefaultControllerPort), "local port of the API and dashboard")
	fl.IntVar(&remotePort, "remote-port", int(api.DefaultControllerPort), "the stack's published port on the manager")
	fl.BoolVar(&dockerSocket, "docker-socket", true, "also forward the manager's Docker engine to a local unix socket")
	fl.StringVar(&remoteSocket, "remote-docker-socket", "/var/run/docker.sock", "the engine's socket on the manager")
	fl.StringVar(&address, "address", "", "connect here instead of the manager's public address (e.g. its private address over a VPN)")
	fl.IntVar(&sshPort, "ssh-port", 22, "SSH port")
	fl.StringVar(&sshUser, "ssh-user", aws.DefaultSSHUser, "login user (ec2-user on Amazon Linux)")
	fl.StringVar(&identity, "identity", "", "private key (default: the one up saved; with an imported key, ssh's own defaults and agent)")
	return c
}

func newClusterAWSDisconnectCmd(g *globals) *cobra.Command {
	var f awsFlags
	c := &cobra.Command{
		Use:   "disconnect",
		Short: "End the tunnel connect started (exactly that ssh process)",
		Long: `End the ssh process recorded in the cluster's PID file and remove the file and
the local socket. A PID that now belongs to another program is not touched.

  simswarm cluster aws disconnect --name lab`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := aws.ValidateName(f.name); err != nil {
				return invalidInput(fmt.Errorf("--name: %w", err))
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			dir, err := tunnel.DefaultDir()
			if err != nil {
				return err
			}
			m := tunnel.Manager{Dir: dir, Logger: log}
			info, _, _ := m.Status(f.tunnelName())
			was, err := m.Disconnect(f.tunnelName())
			if err != nil {
				return err
			}
			if was {
				fmt.Fprintf(cmd.OutOrStdout(), "tunnel closed (ssh pid %d)\n", info.PID)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "no tunnel running")
			}
			return nil
		},
	}
	f.register(c)
	return c
}
