// Package freeport finds free loopback TCP ports for the servers tests
// start (redis-server, FerretDB, sshd, a controller, a swarm listener).
//
// Use:
//
//	port := freeport.Port(t) // e.g. 41235
//	addr := freeport.Addr(t) // "127.0.0.1:41236"
//
// Guarantees: the port was free when asked for (the kernel chose it and
// the listener is closed again); another process may still take it before
// the test binds it, which on a test machine is rare enough to ignore.
// Failure to find one fails the test.
package freeport
