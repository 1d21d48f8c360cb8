// Package jobs holds the worker heartbeats: what a worker publishes in
// Redis under WorkerKeyPrefix every few seconds, with a TTL, and
// ReadHeartbeats, which lists the live ones. The task payloads and the
// record schema it once held are in package api/schema.
package jobs
