// Package tunnel keeps SSH port forwards to a swarm manager running in the
// background: one `ssh -N -L ...` process per name, found again through a
// PID file, so that a later command can reuse or end exactly that process.
//
// Use:
//
//	m := tunnel.Manager{Dir: dir}          // dir from tunnel.DefaultDir()
//	info, err := m.Connect(ctx, tunnel.Spec{
//		Name: "mycluster", Host: "203.0.113.7", User: "ec2-user",
//		IdentityFile: key, KnownHostsFile: kh, HostKeyAlias: "simswarm-mycluster-manager",
//		Forwards: []tunnel.Forward{{Local: "127.0.0.1:8080", Remote: "127.0.0.1:8080"}},
//	})
//	...
//	m.Disconnect("mycluster")
//
// ssh runs from an argv list (never a shell string) with BatchMode=yes,
// ExitOnForwardFailure=yes, StrictHostKeyChecking against the given
// known_hosts file and keep-alives, in its own session so it outlives the
// command that started it.
//
// Guarantees: Connect returns once every local forward accepts connections,
// or fails with the tail of ssh's own error output; it reuses a live tunnel
// of the same name and settings (StrictHostKeyChecking aside: it matters
// only while connecting) instead of starting a second one. The PID
// file (in DefaultDir: $XDG_RUNTIME_DIR/simswarm, else a 0700 directory
// under the temp dir) records the PID and the exact argv; Disconnect
// signals that PID only if /proc still shows that argv, so a recycled PID
// is never killed.
package tunnel
