package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
)

// Docker is the part of the Docker client Init and Join use.
type Docker interface {
	Info(ctx context.Context) (system.Info, error)
	SwarmInit(ctx context.Context, req swarm.InitRequest) (string, error)
	SwarmInspect(ctx context.Context) (swarm.Swarm, error)
	SwarmJoin(ctx context.Context, req swarm.JoinRequest) error
}

// SwarmPort is the default swarm management port.
const SwarmPort = 2377

// InitOptions are docker swarm init's address settings; empty fields keep
// Docker's defaults.
type InitOptions struct {
	// AdvertiseAddr is the address other machines reach this one at
	// (an IP, interface name or IP:port). Needed when the machine has
	// several addresses.
	AdvertiseAddr string
	// ListenAddr is where the swarm listens (default 0.0.0.0:2377).
	ListenAddr string
	// DataPathPort is the VXLAN port of overlay networks (default 4789).
	DataPathPort uint32
	// DefaultAddrPool are the CIDRs overlay networks get their subnets
	// from (default 10.0.0.0/8), SubnetSize those subnets' mask length
	// (default 24): set them when the machines' own networks lie there.
	DefaultAddrPool []string
	SubnetSize      uint32
}

// Validate checks the options and names the one at fault.
func (o InitOptions) Validate() error {
	for _, p := range o.DefaultAddrPool {
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("default address pool %q: not a CIDR such as 10.20.0.0/16", p)
		}
		if o.SubnetSize != 0 && int(o.SubnetSize) < pre.Bits() {
			return fmt.Errorf("default address pool %q: subnet mask length %d is shorter than the pool's /%d", p, o.SubnetSize, pre.Bits())
		}
	}
	if o.SubnetSize != 0 && (o.SubnetSize < 8 || o.SubnetSize > 29) {
		return fmt.Errorf("default address pool mask length %d: want 8 to 29", o.SubnetSize)
	}
	return nil
}

// InitResult is what joining the swarm takes.
type InitResult struct {
	NodeID string
	// Created is false when the engine already was a swarm manager.
	Created     bool
	ManagerAddr string // host:port
	WorkerToken string
}

// JoinCommand is the command to run on the other machines.
func (r InitResult) JoinCommand() string {
	return "simswarm cluster local join --token " + r.WorkerToken + " " + r.ManagerAddr
}

// Init makes the engine a single-node swarm manager, or finds the swarm it
// already manages.
func Init(ctx context.Context, d Docker, o InitOptions) (InitResult, error) {
	if err := o.Validate(); err != nil {
		return InitResult{}, fmt.Errorf("swarm init: %w", err)
	}
	info, err := d.Info(ctx)
	if err != nil {
		return InitResult{}, fmt.Errorf("swarm init: ask the Docker engine: %w", err)
	}
	res := InitResult{NodeID: info.Swarm.NodeID}
	switch info.Swarm.LocalNodeState {
	case swarm.LocalNodeStateActive:
		if !info.Swarm.ControlAvailable {
			return InitResult{}, errors.New("swarm init: this engine is a worker of another swarm; run init on its manager, or docker swarm leave first")
		}
	case swarm.LocalNodeStateInactive:
		id, err := d.SwarmInit(ctx, swarm.InitRequest{
			ListenAddr: orDefault(o.ListenAddr, "0.0.0.0:"+strconv.Itoa(SwarmPort)), AdvertiseAddr: o.AdvertiseAddr, DataPathPort: o.DataPathPort,
			DefaultAddrPool: o.DefaultAddrPool, SubnetSize: o.SubnetSize,
		})
		if err != nil {
			return InitResult{}, fmt.Errorf("swarm init: %w", err)
		}
		res.NodeID, res.Created = id, true
		if info, err = d.Info(ctx); err != nil {
			return InitResult{}, fmt.Errorf("swarm init: ask the Docker engine: %w", err)
		}
	default:
		return InitResult{}, fmt.Errorf("swarm init: the engine's swarm state is %q (%s); fix or leave it first", info.Swarm.LocalNodeState, info.Swarm.Error)
	}
	sw, err := d.SwarmInspect(ctx)
	if err != nil {
		return InitResult{}, fmt.Errorf("swarm init: read the join tokens: %w", err)
	}
	res.WorkerToken = sw.JoinTokens.Worker
	for _, m := range info.Swarm.RemoteManagers {
		if m.NodeID == res.NodeID {
			res.ManagerAddr = m.Addr
		}
	}
	if res.ManagerAddr == "" && info.Swarm.NodeAddr != "" {
		res.ManagerAddr = net.JoinHostPort(info.Swarm.NodeAddr, strconv.Itoa(SwarmPort))
	}
	if res.ManagerAddr == "" {
		return InitResult{}, errors.New("swarm init: the engine reports no manager address; pass --advertise-addr")
	}
	return res, nil
}

// JoinOptions say which swarm to join and how this node is reached.
type JoinOptions struct {
	// Manager is the manager's host:port (port default 2377).
	Manager string
	// Token is the worker join token (SWMTKN-1-...).
	Token         string
	AdvertiseAddr string
	ListenAddr    string // default 0.0.0.0:2377
}

// JoinResult tells what Join did.
type JoinResult struct {
	NodeID string
	// AlreadyMember is true when the engine was in a swarm before; Join
	// then changed nothing.
	AlreadyMember bool
}

// ManagerAddress checks a manager address and adds the default port.
func ManagerAddress(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, strconv.Itoa(SwarmPort)
	}
	if host == "" || strings.ContainsAny(host, " /@") {
		return "", fmt.Errorf("manager address %q: want HOST or HOST:PORT, e.g. 192.168.1.10:2377", s)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("manager address %q: port %q is not a port number", s, port)
	}
	if _, err := netip.ParseAddr(host); err != nil && strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != "" {
		return "", fmt.Errorf("manager address %q: %q is not a host name or IP address", s, host)
	}
	return net.JoinHostPort(host, port), nil
}

// Join makes the engine a worker of the manager's swarm.
func Join(ctx context.Context, d Docker, o JoinOptions) (JoinResult, error) {
	addr, err := ManagerAddress(o.Manager)
	if err != nil {
		return JoinResult{}, err
	}
	// Never echo the token: it is a credential.
	if !strings.HasPrefix(o.Token, "SWMTKN-1-") || strings.ContainsAny(o.Token, " \t\n") {
		return JoinResult{}, errors.New("join token: not a swarm join token (SWMTKN-1-...; simswarm cluster local init prints it)")
	}
	info, err := d.Info(ctx)
	if err != nil {
		return JoinResult{}, fmt.Errorf("swarm join: ask the Docker engine: %w", err)
	}
	if info.Swarm.LocalNodeState == swarm.LocalNodeStateActive || info.Swarm.LocalNodeState == swarm.LocalNodeStatePending {
		return JoinResult{NodeID: info.Swarm.NodeID, AlreadyMember: true}, nil
	}
	if err := d.SwarmJoin(ctx, swarm.JoinRequest{
		ListenAddr: orDefault(o.ListenAddr, "0.0.0.0:"+strconv.Itoa(SwarmPort)), AdvertiseAddr: o.AdvertiseAddr,
		RemoteAddrs: []string{addr}, JoinToken: o.Token,
	}); err != nil {
		return JoinResult{}, fmt.Errorf("swarm join %s: %s", addr, strings.ReplaceAll(err.Error(), o.Token, "[token]"))
	}
	if info, err = d.Info(ctx); err != nil {
		return JoinResult{}, fmt.Errorf("swarm join: ask the Docker engine: %w", err)
	}
	return JoinResult{NodeID: info.Swarm.NodeID}, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
