// Package local turns machines you already have into one Docker Swarm:
// Init makes this machine's engine a swarm manager (or finds that it is
// one) and returns what the others need to join; Join makes an engine a
// worker of that swarm.
//
// Use:
//
//	dc, _ := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
//	res, _ := local.Init(ctx, dc, local.InitOptions{AdvertiseAddr: "192.168.1.10"})
//	fmt.Println(res.JoinCommand())   // run that on every other machine
//	local.Join(ctx, otherEngine, local.JoinOptions{Manager: res.ManagerAddr, Token: res.WorkerToken})
//
// Guarantees: both are idempotent - Init on a manager returns the existing
// swarm's join data, Join on a node that is already in a swarm changes
// nothing and says so. Neither logs or wraps the join token into an error.
// They talk to the engine through the Docker API (the Docker interface is
// what *client.Client offers), never through a shell.
package local
