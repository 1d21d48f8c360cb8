// Package manager wires the controller process together: the HTTP API
// (served by every instance), leader election, and — only on the leader —
// the campaign reconciler and the manifest directory source.
//
//	err := manager.Run(ctx, manager.Config{Listen: ":8080", RedisURL: ..., MongoURI: ..., Token: tok})
//
// Run returns when ctx ends (after a graceful shutdown) or when a
// component fails to start. Ready reports the bound API address.
package manager
