// Package dockertest starts a private Docker engine for tests and makes it a
// one-node swarm. It never talks to any other daemon: the engine gets its
// own data root, exec root, pid file and unix socket under a fresh
// directory, no default bridge (--bridge=none), no iptables rules
// (--iptables=false, so it cannot fight another daemon's chains), its own
// docker_gwbridge interface name, and free swarm listen and VXLAN data-path
// ports.
//
// Use:
//
//	d := dockertest.Start(t)        // dockerd up, swarm initialised
//	d.Client                        // *client.Client on the private socket
//	d.ImportGoImage(t, "simswarm-test/pause:1", "./cmd/pause") // tiny image, no registry
//	out := d.CLI(t, "service", "ls")
//	d.CachedImage(t, ref, "name", inputs, build) // build once per machine, then docker load
//
// Guarantees: everything is torn down when the test ends, also on failure:
// the daemon's process group is terminated (then killed), leftover
// container shims started for this engine are killed, mounts under its
// directory are detached, its gateway bridge is deleted and its directory
// removed. On failure the tail of the daemon log is written to the test log.
//
// Several hosts: StartHosts(t, n) makes n test hosts on this machine, each
// a network namespace of its own (named ssmh<id>-h<i>) joined by a veth
// pair to a bridge in a "switch" namespace the harness makes, with an
// address from a 10.x.0.0/16 that no route or address of the machine
// overlaps, and its own dockerd (own data root, exec root, socket, cgroup
// parent, UTS hostname h<i>, local address pool from the same block). The
// engines are not in a swarm yet: the caller forms it (Hosts.SwarmPool is
// the --default-addr-pool to give it), so VXLAN and the swarm ports are
// per host as on real machines. Host.LinkDown/LinkUp cut and restore the
// host's cable at the switch, Host.Crash SIGKILLs its engine and every
// container at once, Host.Restart starts the engine again on its data;
// Host.Forward relays a 127.0.0.1 port of this machine into the host (how
// a test reaches a published port), CopyImages moves images between
// engines with docker save/load through a per-machine cache. Nothing is
// attached to the machine's own interfaces; everything is torn down with
// the test, and the leftovers of a crashed earlier run (namespaces,
// processes, cgroups, directories named ssmh*) are removed at the start.
//
// Requirements: root, dockerd/containerd/runc (Debian docker.io), ldd,
// ip, nsenter and unshare (util-linux). The storage driver is overlay2 where the kernel has overlayfs, else
// vfs (SIMSWARM_TEST_STORAGE_DRIVER overrides). No registry is ever
// contacted (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1; teardown fails the test
// if the daemon log shows a registry lookup).
package dockertest
