// Package stackspec turns simswarm's Stack settings and the swarm's observed
// nodes into the Docker objects the stack should consist of: service specs
// (controller, redis, mongo, builder, runner, distcc, optional visualizer)
// and overlay networks (interlink, buildnet). It is pure: no I/O, no clock,
// the same input always gives byte-identical output.
//
// Use:
//
//	d, err := stackspec.Build(stack, nodes) // desired services and networks
//	for _, svc := range d.Services { ... svc.Spec, svc.Hash ... }
//	yaml, err := stackspec.Compose(stack, nodes) // the same stack for `docker stack deploy`
//
// Guarantees:
//   - every object carries the labels simswarm.io/stack=<name> and
//     simswarm.io/spec-hash=<hash>; the hash is Fingerprint of the intended
//     spec, a digest of the fields simswarm sets (image without digest, env,
//     args, mounts, networks by name, placement, resources, mode, endpoint),
//     so a reconciler compares Fingerprint(observed) with the label instead
//     of comparing specs the daemon has rewritten (image digests, defaults,
//     network IDs);
//   - only the controller publishes a port (API and dashboard), in host mode
//     on a manager; every service uses the Stack's endpoint mode (dnsrr by
//     default: no IPVS needed);
//   - the runner service is global (one runner per node the placement
//     admits; Swarm places and removes them as nodes join and leave) and
//     the same whatever the nodes; Desired.RunnerSlots is what each node's
//     runner may run at once (RunnerSlots: floor((CPUs - manager reserve)
//     / reservation) on a ready, active node, else 0), which the stack
//     reconciler publishes for the runners. A node's count changes only
//     with its own CPUs, state or the stack's settings.
package stackspec
