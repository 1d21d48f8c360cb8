// Package stack is the controller's stack reconciler: it keeps simswarm's
// own swarm services and networks as stackspec describes them for the
// current nodes, publishes each node's runner slot count for the runners
// and the distcc host list for the builder.
//
// One pass (Reconcile) observes the services and networks that carry the
// stack's label, the nodes and the secrets; computes the desired state with
// stackspec.Build; and then creates what is missing, updates what differs
// (by spec hash: stackspec.Fingerprint of the observed spec against the
// intended one, so daemon rewrites such as image digests do not count),
// and removes labelled objects that are no longer desired. Updates carry
// the observed service Version and are retried on "update out of
// sequence"; like docker stack deploy, they keep what simswarm does not
// own — the ForceUpdate counter of `docker service update --force` and an
// image the daemon pinned by digest — so an update that leaves the task
// spec alone never redeploys the running tasks.
//
// The runner service is global (one runner per node; Swarm starts and
// removes them as nodes join, leave and drain), so no replica count
// follows the nodes. Instead every full pass publishes each node's runner
// slot count (stackspec.RunnerSlots: its CPUs minus the manager reserve,
// over the runner reservation; 0 while it cannot take tasks) through a
// SlotPublisher (Redis hash simswarm:runners:slots, field the node ID,
// written in one transaction), which the runner on that node reads
// (workers/worker): a node joining, a changed CPU grant or a manager
// reserve change a node's count and no service. A changed count is logged
// as an action ("published runner slots").
//
// It also reads the running tasks of the distcc service and
// publishes their buildnet addresses (ip:port; worker nodes'
// first, the managers' last, each group sorted: distcc prefers the first
// hosts of its list) through a
// HostPublisher (Redis key simswarm:distcc:hosts in production), which the
// builder reads before every build, so no restart and no fixed subnet is
// needed.
//
// Swarm's scheduler can give up on a task that waits for a node once its
// service's revision has moved on (moby/moby#36699, #53722): after a lost
// node returns, tasks of a replicated service may stay Pending while it
// has room. A
// full pass therefore also looks for tasks of the stack's replicated
// services that are Pending, unassigned and desired Running while a
// ready, active node meets their constraints and has their reservation
// free; seen so for Config.StuckGrace (default 30 s), their service is
// nudged: its replica count lowered by their number (swarm removes
// unassigned tasks first) and restored by the next pass, which creates
// fresh tasks. The nudge writes the observed spec with only the count
// changed, so it keeps unowned fields and never restarts a running task;
// it is logged as an action ("nudged service/...").
//
// Run drives passes as a single-key Reconcile on the controller runtime
// (package reconcile, the stack's name as the key): Docker events (service,
// node, container) only enqueue a pass (coalesced), a jittered periodic
// resync catches anything missed, failed passes are retried with capped
// exponential backoff (0.5 s to 30 s), a panicking pass is recovered and
// retried, and nothing is written while the Leading callback says another
// controller leads. In the controller process it is a leader-only
// manager.Runnable.
//
// For the dashboard, the reconciler keeps a bounded log of what it did and
// why (RecentActions: created as missing, runner slots published,
// restored after an outside edit, removed as no longer part
// of the stack, failed passes) and its last pass (LastPass); Observe lists
// the swarm's nodes, services and live tasks (reads only, on any
// instance). Config.OnPass feeds reconcile metrics.
//
// Bootstrap operations for the CLI: Deploy creates the networks, the API
// token secret and the controller with Redis and Mongo (which it needs to
// lead); Status compares the stack with its desired state; Remove deletes
// everything carrying the label (volumes only when asked).
//
// Guarantees: objects without the label simswarm.io/stack=<name> are never
// modified or removed; a pass on a converged swarm makes no Docker write
// calls; the published runner slots follow nodes joining, leaving,
// draining and being labelled io.simswarm.runner=false, without a write
// to the runner service.
package stack
