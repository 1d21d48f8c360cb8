// Package metrics is the controller's Prometheus endpoint (/metrics), on
// its own registry (no global state):
//
//	simswarm_campaigns{phase}                    campaigns by phase
//	simswarm_campaign_runs{campaign,state}       runs by state, as the reconciler counted them
//	simswarm_campaign_build_cache_hit{campaign}  1 when the build came from the cache
//	simswarm_build_cache_hits                    campaigns whose build was a cache hit
//	simswarm_builds{state}                       build records by state
//	simswarm_queue_tasks{queue,state}            asynq queue depth (pending, active, scheduled, retry, archived, completed)
//	simswarm_queue_latency_seconds{queue}        age of the oldest pending task
//	simswarm_workers{role}, simswarm_worker_slots{role}, simswarm_worker_busy_slots{role}
//	simswarm_reconcile_duration_seconds{reconciler}  histogram (campaign, stack)
//	simswarm_reconcile_errors_total{reconciler}
//	simswarm_source_up{source}                   0 when a scrape could not read campaigns/builds/queues/workers
//
// plus the standard go_* and process_* metrics. Gauges are read at scrape
// time from the campaign objects, build records, Redis queue summaries and
// worker heartbeats — never from the run records, so a scrape stays cheap
// with 100,000 runs. The reconcilers feed the histogram and counter
// through ObserveReconcile.
//
// Use: m := metrics.New(); hand m.ObserveReconcile("campaign") and
// ("stack") to the reconcilers; m.AddSources(metrics.Sources{Campaigns:
// st, ...}) once the store and Redis are open; mount
// m.Handler() behind the token check (the controller accepts the API
// token as a bearer token, as Prometheus' authorization setting sends it).
package metrics
