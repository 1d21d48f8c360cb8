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
//
// Guarantees: everything is torn down when the test ends, also on failure:
// the daemon's process group is terminated (then killed), leftover
// container shims started for this engine are killed, mounts under its
// directory are detached, its gateway bridge is deleted and its directory
// removed. On failure the tail of the daemon log is written to the test log.
//
// Requirements: root, dockerd/containerd/runc (Debian docker.io), ldd,
// ip. The storage driver is overlay2 where the kernel has overlayfs, else
// vfs (SIMSWARM_TEST_STORAGE_DRIVER overrides). No registry is ever
// contacted (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1; teardown fails the test
// if the daemon log shows a registry lookup).
package dockertest
