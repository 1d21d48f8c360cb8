// Package testdb starts the real servers the controller's tests run
// against, each private to one test and on a free loopback port:
// redis-server (the Debian binary) and a MongoDB-wire server (FerretDB
// v1.24.2 with its SQLite backend, embedded in the test process). Both
// stop when the test ends (redis-server with its whole process group, see
// testproc). Tests only; never linked into the binary.
package testdb
