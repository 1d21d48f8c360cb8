package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/simswarm/simswarm/infra/aws"
	"github.com/simswarm/simswarm/infra/tunnel"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// awsFlags are the flags every "cluster aws" command shares.
type awsFlags struct {
	name, region, profile, endpoint string
}

func (f *awsFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.name, "name", "default", "cluster name: tags and names every resource (simswarm-NAME-...)")
	c.Flags().StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION or the profile's region)")
	c.Flags().StringVar(&f.profile, "profile", "", "AWS profile from ~/.aws/config (default: AWS_PROFILE or default)")
	c.Flags().StringVar(&f.endpoint, "endpoint-url", "", "send every AWS call here instead (an emulator such as moto_server, or VPC endpoints)")
}

func (f *awsFlags) provider(ctx context.Context, log *zap.Logger) (*aws.Provider, error) {
	if err := aws.ValidateName(f.name); err != nil {
		return nil, invalidInput(fmt.Errorf("--name: %w", err))
	}
	return aws.NewProvider(ctx, aws.Options{Region: f.region, Profile: f.profile, EndpointURL: f.endpoint, Logger: log})
}

// open starts one command's AWS session: a context bounded by timeout
// (cancel it when done), the logger and the cluster's provider.
func (f *awsFlags) open(cmd *cobra.Command, g *globals, timeout time.Duration) (context.Context, context.CancelFunc, *aws.Provider, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	log, err := g.logger()
	if err == nil {
		var p *aws.Provider
		if p, err = f.provider(ctx, log); err == nil {
			return ctx, cancel, p, nil
		}
	}
	cancel()
	return nil, nil, nil, err
}

// tunnelName is the name of the cluster's tunnel and PID file.
func (f *awsFlags) tunnelName() string { return "aws-" + f.name }

func newClusterAWSCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "aws",
		Short: "Create, connect to, pause and destroy a swarm on EC2",
		Long: `A swarm on EC2: one manager instance and an Auto Scaling group of workers, with a
key pair, a security group (swarm ports only between the cluster's instances,
SSH only from your address), launch templates whose user-data installs Docker
and forms the swarm, instance roles, an SSM SecureString for the worker join
token, and an idle alarm. Everything is tagged simswarm:cluster=NAME, and
every command touches only what carries its cluster's tag.

Credentials come from the usual places: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE or --profile, ~/.aws/credentials, SSO. infra/README.md lists the
IAM permissions needed.

  simswarm cluster aws up --workers 3 --instance-type c5.4xlarge
  simswarm cluster aws connect       # API and dashboard on localhost:8080
  simswarm cluster aws status
  simswarm cluster aws halt          # stop paying for instances, keep the swarm
  simswarm cluster aws resume
  simswarm cluster aws destroy       # remove everything up created`,
	}
	c.AddCommand(newClusterAWSUpCmd(g), newClusterAWSStatusCmd(g), newClusterAWSConnectCmd(g), newClusterAWSDisconnectCmd(g),
		newClusterAWSHaltCmd(g, true), newClusterAWSHaltCmd(g, false), newClusterAWSDestroyCmd(g))
	return c
}

func newClusterAWSUpCmd(g *globals) *cobra.Command {
	var f awsFlags
	var spec aws.Spec
	var managerType, publicKeyFile string
	var idleStop, yes, dryRun bool
	c := &cobra.Command{
		Use:   "up",
		Short: "Create the cluster, or bring it to what the flags say (idempotent)",
		Long: `Create the cluster's resources, or converge existing ones to the flags: run it
again with the same flags and nothing changes; with other flags only the
difference is applied (worker count, instance types for new instances, SSH
source, idle settings). A halted cluster is started.

It prints what it will create and an hourly cost estimate, and asks before
changing anything (--yes skips the question). --dry-run prints the plan and
makes no call that changes anything.

The manager runs "docker swarm init" at boot and stores the worker join token
in the SSM SecureString /simswarm/NAME/worker-join-token; workers read it there
and join. The token never passes through simswarm, user-data or logs. Unless
--public-key is given, AWS creates an ed25519 key pair whose private key is
saved (0600) under $XDG_CONFIG_HOME/simswarm/aws/NAME/.

Idle stop: when the manager's maximum CPU stays under --idle-threshold percent
for --idle-periods consecutive periods of --idle-period, a CloudWatch alarm
stops the manager and sets the workers to 0 ("simswarm cluster aws resume"
brings them back). On by default; --idle-stop=false removes it.

Examples:
  simswarm cluster aws up --dry-run
  simswarm cluster aws up --workers 4 --instance-type c5.4xlarge --manager-type c5.xlarge
  simswarm cluster aws up --name lab --region eu-central-1 --public-key ~/.ssh/id_ed25519.pub --yes
  simswarm cluster aws up --ssh-cidr 198.51.100.0/24 --idle-period 30m --idle-periods 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			spec.Name, spec.ManagerType = f.name, managerType
			spec.Idle.Disabled = !idleStop
			if publicKeyFile != "" {
				b, err := os.ReadFile(publicKeyFile)
				if err != nil {
					return invalidInput(fmt.Errorf("--public-key: %w", err))
				}
				spec.PublicKey = strings.TrimSpace(string(b))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Minute)
			defer cancel()
			if spec.SSHCIDR == "" {
				cidr, err := aws.CallerCIDR(ctx, &http.Client{Timeout: 10 * time.Second}, aws.CheckIPURL)
				if err != nil {
					return err
				}
				spec.SSHCIDR = cidr
				fmt.Fprintf(out, "SSH will be open to your address %s only (--ssh-cidr to choose)\n", cidr)
			}
			if err := spec.WithDefaults().Validate(); err != nil {
				return invalidInput(err)
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			p, err := f.provider(ctx, log)
			if err != nil {
				return err
			}
			plan, err := p.Plan(ctx, spec)
			if err != nil {
				return err
			}
			fmt.Fprint(out, plan.String())
			fmt.Fprintf(out, "cost: %s\n", plan.Estimate)
			if dryRun {
				fmt.Fprintln(out, "dry run: nothing was changed")
				return nil
			}
			if n := plan.Changes(); n == 0 {
				fmt.Fprintln(out, "nothing to change")
			} else if !yes && !confirm(cmd.InOrStdin(), out, fmt.Sprintf("Make these %d changes?", n)) {
				return errors.New("aborted: nothing was changed (--yes answers yes)")
			}
			res, err := p.Up(ctx, spec)
			// AWS hands out a created private key once: keep it even if a
			// later step failed.
			if res.PrivateKey != "" {
				dir, derr := aws.StateDir(f.name)
				if derr == nil {
					var path string
					if path, derr = aws.SavePrivateKey(dir, res.PrivateKey); derr == nil {
						fmt.Fprintln(out, "private key saved to", path)
					}
				}
				if derr != nil {
					return fmt.Errorf("the key pair was created but its private key could not be saved (delete key pair simswarm-%s and run up again): %w", f.name, derr)
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "manager %s running at %s (private %s)\n", res.ManagerID, orDash(res.PublicIP), orDash(res.PrivateIP))
			fmt.Fprintf(out, `next:
  simswarm cluster aws status --name %[1]s      # wait for "swarm initialized"
  simswarm cluster aws connect --name %[1]s     # API/dashboard on localhost, the engine on a local socket
  DOCKER_HOST=unix://<socket printed by connect> simswarm stack deploy
`, f.name)
			return nil
		},
	}
	f.register(c)
	fl := c.Flags()
	fl.IntVar(&spec.Workers, "workers", aws.DefaultWorkers, "number of worker instances")
	fl.StringVar(&spec.WorkerType, "instance-type", aws.DefaultInstanceType, "instance type of the workers")
	fl.StringVar(&managerType, "manager-type", "", "instance type of the manager (default: --instance-type)")
	fl.StringVar(&spec.AMI, "ami", "", "image id (default: the current Amazon Linux 2023 image from --ami-parameter)")
	fl.StringVar(&spec.AMIParameter, "ami-parameter", aws.DefaultAMIParameter, "public SSM parameter naming the image")
	fl.Int32Var(&spec.VolumeGiB, "volume-size", aws.DefaultVolumeGiB, "root volume size in GiB (gp3, encrypted)")
	fl.StringVar(&spec.SSHCIDR, "ssh-cidr", "", "the only network allowed to reach SSH (default: your public address/32)")
	fl.StringVar(&publicKeyFile, "public-key", "", "import this OpenSSH public key as the key pair instead of letting AWS make one")
	fl.StringArrayVar(&spec.SubnetIDs, "subnet", nil, "subnet to launch into, repeatable (default: the default VPC's default subnets)")
	fl.BoolVar(&idleStop, "idle-stop", true, "stop the cluster when the manager is idle")
	fl.Float64Var(&spec.Idle.Threshold, "idle-threshold", aws.DefaultIdleThreshold, "idle means the manager's maximum CPU stays below this percentage")
	fl.Int32Var(&spec.Idle.Periods, "idle-periods", aws.DefaultIdlePeriods, "for this many consecutive periods")
	fl.DurationVar(&spec.Idle.Period, "idle-period", aws.DefaultIdlePeriod, "of this length (whole minutes)")
	fl.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	fl.BoolVar(&dryRun, "dry-run", false, "print the plan and the cost; change nothing")
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newClusterAWSStatusCmd(g *globals) *cobra.Command {
	var f awsFlags
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's instances, swarm readiness, idle alarm, cost and tunnel",
		Long: `Show what exists of the cluster: the manager and the workers with their states
and addresses, whether the manager has initialised the swarm (it stores the
worker join token when it has), the idle alarm's state, the hourly cost of
what runs and an estimate of what it cost since each instance last started,
and whether "connect" has a tunnel open. It changes nothing.

  simswarm cluster aws status --name lab`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel, p, err := f.open(cmd, g, 2*time.Minute)
			if err != nil {
				return err
			}
			defer cancel()
			st, err := p.Status(ctx, f.name)
			if err != nil {
				return err
			}
			if !st.Exists {
				return fmt.Errorf("cluster %s: nothing found in %s (simswarm cluster aws up creates it)", f.name, st.Region)
			}
			printClusterStatus(cmd.OutOrStdout(), st, &f)
			return nil
		},
	}
	f.register(c)
	return c
}

func printClusterStatus(w io.Writer, st aws.Status, f *awsFlags) {
	fmt.Fprintf(w, "cluster %s in %s\n", st.Cluster, st.Region)
	if m := st.Manager; m != nil {
		fmt.Fprintf(w, "manager  %s  %-8s %s  public %s  private %s\n", m.ID, m.State, m.Type, orDash(m.PublicIP), orDash(m.PrivateIP))
	} else {
		fmt.Fprintln(w, "manager  none (up launches one)")
	}
	running := 0
	for _, i := range st.Workers {
		if i.State == "running" {
			running++
		}
	}
	fmt.Fprintf(w, "workers  %d running, %d wanted now, %d set by up\n", running, st.DesiredWorkers, st.SpecWorkers)
	for _, i := range st.Workers {
		fmt.Fprintf(w, "  %s  %-8s %s  private %s\n", i.ID, i.State, i.Type, orDash(i.PrivateIP))
	}
	if st.SwarmInitialized {
		fmt.Fprintln(w, "swarm    initialized (the manager stored the worker join token)")
	} else {
		fmt.Fprintln(w, "swarm    not yet initialized (the manager is booting)")
	}
	if st.Alarm != "" {
		fmt.Fprintf(w, "idle     alarm %s (%s)\n", st.Alarm, st.AlarmReason)
	} else {
		fmt.Fprintln(w, "idle     no idle alarm")
	}
	fmt.Fprintf(w, "cost     $%.4f/hour now, about $%.2f since the instances started (list prices, an estimate)\n", st.HourlyUSD, st.SoFarUSD)
	if dir, err := tunnel.DefaultDir(); err == nil {
		m := tunnel.Manager{Dir: dir}
		if info, alive, err := m.Status(f.tunnelName()); err == nil && alive {
			fmt.Fprintf(w, "tunnel   connected (ssh pid %d: %s)\n", info.PID, forwardsText(info.Forwards))
		} else {
			fmt.Fprintln(w, "tunnel   not connected")
		}
	}
}

func forwardsText(fs []tunnel.Forward) string {
	var s []string
	for _, fw := range fs {
		s = append(s, fw.Local+" -> "+fw.Remote)
	}
	return strings.Join(s, ", ")
}

// newClusterAWSHaltCmd is halt (halt true) or resume.
func newClusterAWSHaltCmd(g *globals, halt bool) *cobra.Command {
	var f awsFlags
	c := &cobra.Command{
		Use:   "halt",
		Short: "Stop the manager and scale the workers to 0; volumes and swarm state stay",
		Long: `Stop the manager instance and set the worker group to 0 instances. The manager's
volume (swarm state, Redis, MongoDB) stays, so "resume" continues where the
cluster was. Stopped instances cost nothing; their volumes still do.

  simswarm cluster aws halt --name lab`,
		Args: cobra.NoArgs,
	}
	if !halt {
		c.Use = "resume"
		c.Short = "Start the manager and bring the workers back to the count up set"
		c.Long = `Start the halted (or idle-stopped) manager, set the worker group back to the
count "up" set, and re-arm the idle alarm.

  simswarm cluster aws resume --name lab`
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, cancel, p, err := f.open(cmd, g, 15*time.Minute)
		if err != nil {
			return err
		}
		defer cancel()
		var acts []aws.Action
		if halt {
			acts, err = p.Halt(ctx, f.name)
		} else {
			acts, err = p.Resume(ctx, f.name)
		}
		for _, a := range acts {
			fmt.Fprintln(cmd.OutOrStdout(), a)
		}
		if err != nil {
			return err
		}
		if len(acts) == 0 {
			fmt.Fprintln(cmd.OutOrStdout(), "nothing to do")
		}
		return nil
	}
	f.register(c)
	return c
}

func newClusterAWSDestroyCmd(g *globals) *cobra.Command {
	var f awsFlags
	var yes bool
	c := &cobra.Command{
		Use:   "destroy",
		Short: "Remove everything up created for the cluster, found by its tag",
		Long: `Delete the cluster: idle alarm, worker group and policy, instances (and their
volumes), launch templates, security group, key pair, the join-token
parameter, instance profiles and roles - every resource tagged
simswarm:cluster=NAME, in dependency order. A resource with the cluster's
name but without its tag is left alone and reported. Safe to re-run: a
destroyed cluster destroys to nothing. Closes the tunnel and removes the
saved private key and known_hosts file.

  simswarm cluster aws destroy --name lab --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if err := aws.ValidateName(f.name); err != nil {
				return invalidInput(fmt.Errorf("--name: %w", err))
			}
			if !yes && !confirm(cmd.InOrStdin(), out, fmt.Sprintf("Delete every resource of cluster %s, instances and volumes included?", f.name)) {
				return errors.New("aborted: nothing was deleted (--yes answers yes)")
			}
			ctx, cancel, p, err := f.open(cmd, g, 30*time.Minute)
			if err != nil {
				return err
			}
			defer cancel()
			acts, err := p.Destroy(ctx, f.name)
			for _, a := range acts {
				fmt.Fprintln(out, a)
			}
			if err != nil {
				return err
			}
			if dir, err := tunnel.DefaultDir(); err == nil {
				m := tunnel.Manager{Dir: dir}
				if was, err := m.Disconnect(f.tunnelName()); err == nil && was {
					fmt.Fprintln(out, "closed the tunnel")
				}
			}
			if dir, err := aws.StateDir(f.name); err == nil {
				if _, err := os.Stat(dir); err == nil {
					if err := os.RemoveAll(dir); err != nil {
						return fmt.Errorf("remove %s: %w", dir, err)
					}
					fmt.Fprintln(out, "removed", dir)
				}
			}
			if len(acts) == 0 {
				fmt.Fprintf(out, "cluster %s: nothing left to delete\n", f.name)
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return c
}
