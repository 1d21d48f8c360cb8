// Package manager wires the controller process together, in the shape of
// controller-runtime's manager: components are Runnables; those that need
// leadership run only while this instance holds the Redis leader lease,
// the others on every instance for the process's lifetime.
//
//	mgr, err := manager.New(ctx, manager.Config{Listen: ":8080", RedisURL: ..., MongoURI: ..., Token: tok})
//	mgr.Add(&manifests.Dir{Path: dir, Store: mgr.Store(), Notify: mgr.Notify})
//	err = mgr.Start(ctx) // or manager.Run(ctx, cfg) when nothing needs the store
//
// Always (every instance): the HTTP API and the dashboard on one listener,
// and /metrics. While leading: the campaign controller (package campaign
// on the controller runtime of package reconcile, its writes fenced by the
// leader epoch), the announcements of workers and standbys (Redis
// ChangesChannel), and every Runnable that does not implement
// LeaderElectionRunnable with NeedLeaderElection false: the manifest
// directory and git sources, the stack reconciler, and the result index
// backfill (package resultbackfill). They start anew each
// time this instance becomes leader and stop when it loses the lease.
//
// Guarantees: a campaign or stack pass that panics is recovered by the
// runtime, so the API and the dashboard keep answering; a Runnable that
// fails is logged and the others keep running; Start returns when ctx
// ends, after every component stopped (API requests get 5 s to finish),
// or when the API cannot listen; Config.Ready receives the bound address.
package manager
