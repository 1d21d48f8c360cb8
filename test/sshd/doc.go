// Package sshdtest runs a real OpenSSH server (Debian openssh-server) on
// loopback for tests, with its own host key, configuration and a
// throwaway client key.
//
// Use:
//
//	s := sshdtest.Start(t)
//	// ssh -F none -i s.ClientKey -o UserKnownHostsFile=s.KnownHosts
//	//     -o HostKeyAlias=s.HostKeyAlias -p s.Port -l s.User 127.0.0.1
//
// Guarantees: the server listens on 127.0.0.1 only, on a free port,
// accepts only the generated client key for the current user (no
// passwords, no PAM), allows TCP and unix-socket forwarding, and is
// stopped with its per-connection children (each in a session of its
// own) when the test ends, so no client stays connected. The
// known_hosts file lists the generated host key under HostKeyAlias.
//
// Requirements: root (sshd's privilege separation), sshd and ssh-keygen.
// install-deps.sh installs openssh-server; without it the test fails
// under CI (CI=true) and is skipped with the reason elsewhere.
package sshdtest
