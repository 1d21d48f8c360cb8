// Package leader elects one active controller through a Redis lease.
//
// A candidate takes the lease with SET key token NX PX ttl and, atomically
// with it (one Lua script), draws a new epoch from an INCR counter. The
// holder renews the lease with a compare-and-PEXPIRE script; a candidate
// that cannot renew within RenewDeadline (< LeaseDuration) steps down before
// anyone else can take the lease, so two holders never overlap as long as
// clocks run at the same rate. On shutdown the holder deletes the lease
// (compare-and-DEL) so a standby takes over at once; if the holder dies,
// the standby takes over within LeaseDuration + RetryPeriod.
//
// The epoch is a fencing token: OnStartedLeading receives it and every write
// the leader makes to the store carries it, so a deposed leader that still
// runs is refused. EpochFloor lets the store's highest seen epoch survive a
// Redis wipe: a new epoch is always above it.
//
// Usage:
//
//	e := &leader.Elector{Client: rdb, Identity: host, Callbacks: leader.Callbacks{
//		OnStartedLeading: func(ctx context.Context, epoch int64) { run(ctx, epoch) },
//		OnStoppedLeading: func() { log.Info("standing by") },
//	}}
//	err := e.Run(ctx) // returns when ctx ends
package leader
