package stack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/stackspec"
	"go.uber.org/zap"
)

// Result says what one pass did.
type Result struct {
	Created     []string
	Updated     []string
	Removed     []string
	DistccHosts []string
	// RunnerSlots is the runner slot count published per node ID.
	RunnerSlots map[string]int
	// DistccStarting is set when distcc tasks are on their way to running:
	// no event marks the moment they get there (the container's start
	// event comes first), so Run looks again shortly.
	DistccStarting bool
	// StuckWatched is set while tasks wait for a node that has room for
	// them, not yet for StuckGrace; Nudged when a service with tasks swarm
	// stopped scheduling was scaled down to be restored by the next pass.
	StuckWatched, Nudged bool
}

// Writes is the number of Docker write calls the pass made.
func (r Result) Writes() int { return len(r.Created) + len(r.Updated) + len(r.Removed) }

// maxSequenceRetries bounds retries of an update that raced another writer.
const maxSequenceRetries = 5

// Reconcile makes one pass: observe, compute desired, converge. It keeps
// going after a failed object and returns all failures joined.
func (r *Reconciler) Reconcile(ctx context.Context) (Result, error) {
	return r.pass(ctx, nil)
}

// pass converges the stack; with only set, it converges just those
// components' services (and the networks) and removes nothing.
func (r *Reconciler) pass(ctx context.Context, only map[string]bool) (Result, error) {
	var res Result
	nodes, err := r.docker.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return res, fmt.Errorf("list nodes: %w", err)
	}
	observedNodes := make([]stackspec.Node, 0, len(nodes))
	for _, n := range nodes {
		observedNodes = append(observedNodes, stackspec.NodeFromSwarm(n))
	}
	desired, err := stackspec.Build(r.stack, observedNodes)
	if err != nil {
		return res, err
	}
	stackFilter := filters.NewArgs(filters.Arg("label", stackspec.LabelStack+"="+r.stack.Metadata.Name))

	services := desired.Services
	if only != nil {
		services = slices.DeleteFunc(slices.Clone(services), func(s stackspec.Service) bool { return !only[s.Component] })
	}
	prune := only == nil
	var errs []error
	netNames, err := r.reconcileNetworks(ctx, desired.Networks, stackFilter, prune, &res)
	if err != nil {
		errs = append(errs, err)
	}
	if err := r.reconcileServices(ctx, services, stackFilter, netNames, prune, &res); err != nil {
		errs = append(errs, err)
	}
	if prune {
		if err := r.publishDistccHosts(ctx, nodes, &res); err != nil {
			errs = append(errs, err)
		}
		if err := r.publishRunnerSlots(ctx, desired.RunnerSlots, &res); err != nil {
			errs = append(errs, err)
		}
		if err := r.nudgeStuck(ctx, nodes, stackFilter, &res); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// reconcileNetworks creates missing stack networks and removes labelled ones
// no longer desired. It returns network ID -> name for the stack networks.
// Overlay networks cannot be changed in place; a drifted one is reported,
// not recreated (that would need every service detached).
func (r *Reconciler) reconcileNetworks(ctx context.Context, want []stackspec.Network, stackFilter filters.Args, prune bool, res *Result) (map[string]string, error) {
	observed, err := r.docker.NetworkList(ctx, network.ListOptions{Filters: stackFilter})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	byName := map[string]network.Summary{}
	names := map[string]string{}
	for _, n := range observed {
		if n.Labels[stackspec.LabelStack] != r.stack.Metadata.Name {
			continue // belt and braces: never act on unlabelled objects
		}
		byName[n.Name] = n
		names[n.ID] = n.Name
	}
	var errs []error
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.Name] = true
		if o, ok := byName[w.Name]; ok {
			if o.Labels[stackspec.LabelSpecHash] != w.Hash {
				r.log.Warn("stack network differs from its spec; overlay networks cannot be updated in place",
					zap.String("network", w.Name), zap.String("observedHash", o.Labels[stackspec.LabelSpecHash]), zap.String("wantHash", w.Hash))
			}
			continue
		}
		resp, err := r.docker.NetworkCreate(ctx, w.Name, network.CreateOptions{
			Driver: w.Driver, Attachable: w.Attachable, Scope: "swarm", Labels: w.Labels,
		})
		if err != nil {
			err = fmt.Errorf("create network %s: %w", w.Name, err)
			r.record("create network/"+w.Name, whyMissing, err)
			errs = append(errs, err)
			continue
		}
		names[resp.ID] = w.Name
		res.Created = append(res.Created, "network/"+w.Name)
		r.record("created network/"+w.Name, whyMissing, nil)
		r.log.Info("created stack network", zap.String("network", w.Name))
	}
	for _, o := range byName {
		if wanted[o.Name] || !prune {
			continue
		}
		if err := r.docker.NetworkRemove(ctx, o.ID); err != nil {
			err = fmt.Errorf("remove network %s: %w", o.Name, err)
			r.record("remove network/"+o.Name, whyUnwanted, err)
			errs = append(errs, err)
			continue
		}
		res.Removed = append(res.Removed, "network/"+o.Name)
		r.record("removed network/"+o.Name, whyUnwanted, nil)
		r.log.Info("removed stack network", zap.String("network", o.Name))
	}
	return names, errors.Join(errs...)
}

func (r *Reconciler) reconcileServices(ctx context.Context, want []stackspec.Service, stackFilter filters.Args, netNames map[string]string, prune bool, res *Result) error {
	observed, err := r.docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter})
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	byName := map[string]swarm.Service{}
	for _, s := range observed {
		if s.Spec.Labels[stackspec.LabelStack] == r.stack.Metadata.Name {
			byName[s.Spec.Name] = s
		}
	}
	secrets, err := r.secretIDs(ctx, want)
	if err != nil {
		return err
	}
	var errs []error
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.Name] = true
		spec, err := withSecretIDs(w, secrets)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o, exists := byName[w.Name]
		switch {
		case !exists:
			if _, err := r.docker.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
				err = fmt.Errorf("create service %s: %w", w.Name, err)
				r.record("create service/"+w.Name, whyMissing, err)
				errs = append(errs, err)
				continue
			}
			res.Created = append(res.Created, "service/"+w.Name)
			r.record("created service/"+w.Name, whyMissing, nil)
			r.log.Info("created stack service", zap.String("service", w.Name))
		case o.Spec.Labels[stackspec.LabelSpecHash] == w.Hash && stackspec.Fingerprint(o.Spec, netNames) == w.Hash:
			// Converged: no write.
		default:
			why := updateReason(o.Spec, w)
			if err := r.updateService(ctx, o, spec); err != nil {
				r.record("update service/"+w.Name, why, err)
				errs = append(errs, err)
				continue
			}
			res.Updated = append(res.Updated, "service/"+w.Name)
			r.record("updated service/"+w.Name, why, nil)
			r.log.Info("updated stack service", zap.String("service", w.Name),
				zap.String("labelHash", o.Spec.Labels[stackspec.LabelSpecHash]),
				zap.String("observedHash", stackspec.Fingerprint(o.Spec, netNames)), zap.String("wantHash", w.Hash))
		}
	}
	for _, o := range byName {
		if wanted[o.Spec.Name] || !prune {
			continue
		}
		if err := r.docker.ServiceRemove(ctx, o.ID); err != nil {
			err = fmt.Errorf("remove service %s: %w", o.Spec.Name, err)
			r.record("remove service/"+o.Spec.Name, whyUnwanted, err)
			errs = append(errs, err)
			continue
		}
		res.Removed = append(res.Removed, "service/"+o.Spec.Name)
		r.record("removed service/"+o.Spec.Name, whyUnwanted, nil)
		r.log.Info("removed stack service", zap.String("service", o.Spec.Name))
	}
	return errors.Join(errs...)
}

// Reasons of actions.
const (
	whyMissing  = "missing: the stack needs it"
	whyUnwanted = "carries the stack's label but is no longer part of it"
)

// updateReason says why observed differs from the desired service w.
func updateReason(observed swarm.ServiceSpec, w stackspec.Service) string {
	if have, want := specReplicas(observed), specReplicas(w.Spec); have != want {
		return fmt.Sprintf("replicas %d -> %d", have, want)
	}
	if observed.Labels[stackspec.LabelSpecHash] == w.Hash {
		return "changed outside simswarm (e.g. docker service update): restoring the desired spec"
	}
	return "the desired spec changed (stack settings or nodes)"
}

// specReplicas is a replicated service's replica count, -1 for other modes.
func specReplicas(s swarm.ServiceSpec) int64 {
	if s.Mode.Replicated == nil || s.Mode.Replicated.Replicas == nil {
		return -1
	}
	return int64(*s.Mode.Replicated.Replicas)
}

// updateService writes spec over o with o's version; when another writer
// got in between ("update out of sequence") it re-reads the version and
// tries again.
func (r *Reconciler) updateService(ctx context.Context, o swarm.Service, spec swarm.ServiceSpec) error {
	version, observed := o.Version, o.Spec
	for attempt := 0; ; attempt++ {
		_, err := r.docker.ServiceUpdate(ctx, o.ID, version, keepUnowned(observed, spec), swarm.ServiceUpdateOptions{})
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "update out of sequence") || attempt >= maxSequenceRetries {
			return fmt.Errorf("update service %s: %w", spec.Name, err)
		}
		cur, _, ierr := r.docker.ServiceInspectWithRaw(ctx, o.ID, swarm.ServiceInspectOptions{})
		if ierr != nil {
			return fmt.Errorf("update service %s: re-read after out-of-sequence: %w", spec.Name, ierr)
		}
		version, observed = cur.Version, cur.Spec
	}
}

// keepUnowned returns spec with the fields of the observed spec that the
// daemon or a user set and simswarm does not own, as docker stack deploy
// keeps them: the ForceUpdate counter (`docker service update --force`
// bumps it; a spec without it differs from every task's and swarm would
// redeploy them all, killing the simulations in flight) and an image the
// daemon pinned by digest when it is otherwise the one wanted (dropping
// the digest would also redeploy every task, and could move them to
// another build of the tag). spec is not modified.
func keepUnowned(observed, spec swarm.ServiceSpec) swarm.ServiceSpec {
	spec.TaskTemplate.ForceUpdate = observed.TaskTemplate.ForceUpdate
	oc, wc := observed.TaskTemplate.ContainerSpec, spec.TaskTemplate.ContainerSpec
	if oc != nil && wc != nil && oc.Image != wc.Image && stackspec.StripDigest(oc.Image) == wc.Image {
		cc := *wc
		cc.Image = oc.Image
		spec.TaskTemplate.ContainerSpec = &cc
	}
	return spec
}

// secretIDs maps the secret names the desired services refer to onto IDs.
func (r *Reconciler) secretIDs(ctx context.Context, want []stackspec.Service) (map[string]string, error) {
	var names []string
	for _, w := range want {
		names = append(names, w.SecretNames...)
	}
	if len(names) == 0 {
		return nil, nil
	}
	args := filters.NewArgs()
	for _, n := range names {
		args.Add("name", n)
	}
	list, err := r.docker.SecretList(ctx, swarm.SecretListOptions{Filters: args})
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	ids := map[string]string{}
	for _, s := range list {
		ids[s.Spec.Name] = s.ID // the filter also matches longer names; lookups are exact
	}
	return ids, nil
}

// withSecretIDs returns the service's spec with secret IDs filled in (a
// copy: the desired spec is not modified).
func withSecretIDs(w stackspec.Service, ids map[string]string) (swarm.ServiceSpec, error) {
	spec := w.Spec
	c := spec.TaskTemplate.ContainerSpec
	if c == nil || len(c.Secrets) == 0 {
		return spec, nil
	}
	cc := *c
	cc.Secrets = make([]*swarm.SecretReference, len(c.Secrets))
	for i, ref := range c.Secrets {
		id, ok := ids[ref.SecretName]
		if !ok {
			return spec, fmt.Errorf("service %s: secret %s does not exist (simswarm stack deploy creates it)", w.Name, ref.SecretName)
		}
		r := *ref
		r.SecretID = id
		cc.Secrets[i] = &r
	}
	spec.TaskTemplate.ContainerSpec = &cc
	return spec, nil
}

// publishDistccHosts publishes the buildnet addresses of the running
// distcc tasks: those on worker nodes first, the managers' last, each
// group sorted. distcc sends a compile to the first host of its list with
// a free slot, so a small build would otherwise go wholly to whichever
// host sorts first, and the manager's CPUs run the control plane and the
// builder itself. It publishes on every pass (a Redis write, not a Docker
// one) so a restarted Redis gets the list back at the next pass.
func (r *Reconciler) publishDistccHosts(ctx context.Context, nodes []swarm.Node, res *Result) error {
	manager := map[string]bool{}
	for _, n := range nodes {
		manager[n.ID] = n.Spec.Role == swarm.NodeRoleManager
	}
	svc := stackspec.ObjectName(r.stack, stackspec.Distcc)
	buildnet := stackspec.ObjectName(r.stack, stackspec.Buildnet)
	tasks, err := r.docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", svc), filters.Arg("desired-state", "running"))})
	if err != nil && !cerrdefs.IsNotFound(err) { // no distcc service: no hosts
		return fmt.Errorf("list distcc tasks: %w", err)
	}
	port := strconv.Itoa(int(r.stack.Spec.Distcc.Port))
	type host struct {
		addr    string
		manager bool
	}
	var found []host
	for _, t := range tasks {
		if t.Status.State != swarm.TaskStateRunning {
			res.DistccStarting = true
			continue
		}
		for _, na := range t.NetworksAttachments {
			if na.Network.Spec.Name != buildnet {
				continue
			}
			for _, a := range na.Addresses {
				if p, err := netip.ParsePrefix(a); err == nil {
					found = append(found, host{p.Addr().String() + ":" + port, manager[t.NodeID]})
				}
			}
		}
	}
	slices.SortFunc(found, func(a, b host) int {
		if a.manager != b.manager {
			if a.manager {
				return 1
			}
			return -1
		}
		return strings.Compare(a.addr, b.addr)
	})
	hosts := make([]string, 0, len(found))
	for _, h := range found {
		hosts = append(hosts, h.addr)
	}
	res.DistccHosts = hosts
	if r.hosts == nil {
		return nil
	}
	if err := r.hosts.PublishDistccHosts(ctx, hosts); err != nil {
		return err
	}
	if !slices.Equal(hosts, r.lastHosts) {
		r.record("published distcc hosts", fmt.Sprintf("running distcc tasks changed: %d hosts %s", len(hosts), strings.Join(hosts, " ")), nil)
		r.log.Info("distcc hosts changed", zap.Strings("hosts", hosts))
		r.lastHosts = hosts
	}
	return nil
}

// publishRunnerSlots publishes each node's runner slot count, which the
// runner on that node (a global service: Swarm places one per node) reads
// to size itself: node joins, losses and CPU grants change these counts,
// never the runner service. Like the distcc hosts it is written on every
// pass (Redis, not Docker), so a wiped Redis gets it back at the next.
func (r *Reconciler) publishRunnerSlots(ctx context.Context, slots map[string]int, res *Result) error {
	res.RunnerSlots = slots
	if r.slots == nil {
		return nil
	}
	if err := r.slots.PublishRunnerSlots(ctx, slots); err != nil {
		return err
	}
	if !maps.Equal(slots, r.lastSlots) {
		ids := slices.Sorted(maps.Keys(slots))
		parts := make([]string, 0, len(ids))
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf("%s=%d", id, slots[id]))
		}
		r.record("published runner slots", fmt.Sprintf("the nodes' CPUs, states or the stack's settings changed: %d slots on %d nodes (%s)",
			stackspec.TotalRunnerSlots(slots), len(slots), strings.Join(parts, " ")), nil)
		r.log.Info("runner slots changed", zap.Any("slots", slots))
		r.lastSlots = slots
	}
	return nil
}
