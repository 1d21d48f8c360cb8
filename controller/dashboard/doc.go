// Package dashboard is the controller's web dashboard, served on the API's
// own listener under /ui/ (the port the stack publishes in host mode on
// the manager, and that `simswarm cluster aws connect` forwards):
//
//	/ui/                 campaigns: progress bars, runs by state, throughput, ETA, status
//	/ui/campaigns/NAME   one campaign: spec, conditions, runs (paginated, by state), each
//	                     run's attempts, stderr tail and result downloads; suspend/resume,
//	                     retry failed runs, cancel (delete)
//	/ui/campaigns/NAME/results
//	                     its Results tab: a scalar of the result index (Config.Results)
//	                     against an iteration variable, one series per value of another,
//	                     mean with 95% CI error bars (resulttable's numbers), drawn as
//	                     SVG by the embedded results.js; choices in the query
//	                     (?scalar=MODULE.NAME&x=VAR&series=VAR)
//	/ui/queues           queue depth, workers with their current task and since when,
//	                     recent failures with stderr tails, builds, the same management
//	/ui/swarm            nodes (role, availability, state, CPUs, memory) with their tasks
//	                     coloured by service; services with desired/running replicas; what
//	                     the stack reconciler last did and why
//	/ui/login            log in with the API token
//
// Each page is one JSON view (/ui/api/overview, /ui/api/campaigns/NAME,
// /ui/api/campaigns/NAME/results, /ui/api/queues, /ui/api/swarm) that the page receives as server-sent
// events from /ui/api/stream?view=... whenever it changes (recomputed every
// StreamInterval, shared between clients for a moment). Actions call the
// controller's API (apiserver) with the session; Server.APISession is the
// hook the API server asks.
//
// Scale: no page reads the run records. Counts come from the campaign
// objects' status (the reconciler aggregates them), queue depth from
// asynq's per-queue summary, workers from one SCAN+MGET of their
// heartbeats. Run lists, durations, throughput and recent failures come
// from the run index: a snapshot of every run record's summary, taken by
// one background scan (Run) while someone looks at the dashboard, at most
// every max(IndexMinInterval, 10 × the scan's cost). A page therefore never
// waits for a scan: before the first one completes it shows the counts and
// says the run list is being read. The Results tab reads the campaign's
// result index (one document per indexed run), at most every
// max(IndexMinInterval, 10 × the read's cost) per choice of scalar and
// axes, shared by every tab that shows it.
//
// Security: every page and view needs a session, made by logging in with
// the API token (compared in constant time on digests). Wrong logins and
// wrong bearer tokens on /metrics count against the client's address in
// an httpauth.Limiter (shared with the API when the controller wires one
// into both; 20 at once, draining at 20 a minute): that address is then
// refused (429, Retry-After) even with the right token, and no other
// address is affected. The session is a signed cookie (HttpOnly, SameSite=Strict,
// Secure over TLS) keyed by the token, so it works on every controller of
// a stack; writes through the API also need the session's CSRF token
// (X-CSRF-Token). Logging out records the session in Config.Revocations
// (the MongoDB store the controllers share) until it would have expired,
// and every session check reads it there: a logout holds on every
// controller, standby or restarted, at once (only "revoked" answers are
// cached, never "not revoked"). When the store cannot answer, a session is
// neither trusted nor logged out: pages and views answer 503, API calls
// 401. Pages without a session are redirected to /ui/login; views and API
// calls answer 401. A strict
// Content-Security-Policy allows scripts, styles and connections to the
// controller only; all assets are embedded (go:embed), nothing is fetched
// from the internet. Data is inserted into pages as text only.
//
// Use: s, _ := dashboard.New(dashboard.Config{Token: tok, Campaigns: st,
// Runs: st, Revocations: st, Limiter: lim, ...}); go s.Run(ctx); mount s.Handler() at /ui/.
package dashboard
