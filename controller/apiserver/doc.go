// Package apiserver is the controller's HTTP API, versioned like a
// Kubernetes API group:
//
//	GET    /healthz                                   (no token)
//	GET    /apis/simswarm.io/v1alpha1/campaigns        list
//	POST   /apis/simswarm.io/v1alpha1/campaigns        create (409 if it exists)
//	GET    /apis/simswarm.io/v1alpha1/campaigns/NAME   get
//	PUT    /apis/simswarm.io/v1alpha1/campaigns/NAME   replace; metadata.resourceVersion required, 409 when stale
//	PATCH  /apis/simswarm.io/v1alpha1/campaigns/NAME   apply (create or update, no resourceVersion)
//	POST   /apis/simswarm.io/v1alpha1/campaigns/NAME/apply     same as PATCH
//	DELETE /apis/simswarm.io/v1alpha1/campaigns/NAME[?purge=true]   202 + the object
//	POST   .../campaigns/NAME/suspend, .../resume
//	POST   .../campaigns/NAME/retry             failed runs back to Pending (one more attempt each)
//	GET    .../campaigns/NAME/runs?state=S&after=N&limit=L      paginated run records
//	GET    .../campaigns/NAME/runs/N            one run record
//	GET    .../campaigns/NAME/runs/N/logs       its stderr tail and message (text)
//	GET    .../campaigns/NAME/results?after=N&limit=L  result files of succeeded runs
//	GET    .../campaigns/NAME/results/N/FILE    download one result file
//	POST   .../campaigns/NAME/results/N         {"names": [...]}: several files of run N as a tar
//	GET    .../campaigns/NAME/results/table?scalar=GLOB...  scalars by iteration variables (result index)
//	GET    /apis/simswarm.io/v1alpha1/resultsets       results kept by deleted campaigns
//	GET    .../resultsets/UID, .../resultsets/UID/results?continue=C&limit=L, .../results/N/FILE
//	DELETE .../resultsets/UID                  prune (202; freed by the controller in batches)
//	PUT    /apis/simswarm.io/v1alpha1/sources/SHA256   upload a source archive (verified)
//	HEAD   /apis/simswarm.io/v1alpha1/sources/SHA256   is it stored?
//
// A deleted campaign stays, phase Deleting and refusing changes (409
// Deleting), until the controller has removed its run records in bounded
// batches; then it is gone (404) and, unless purged, its results stay as a
// result set under its uid until pruned. Pruning a live campaign's uid,
// or one still being deleted, is 409 InUse; an unknown uid 404.
//
// Every endpoint but /healthz needs "Authorization: Bearer TOKEN" (scheme
// in any case, RFC 7235; the token compared
// in constant time; 401 otherwise; the token is never logged), or, when the
// controller wires Server.Session, a logged-in dashboard session (cookie,
// plus the session's X-CSRF-Token header on writes). Wrong bearer tokens
// count against the client's address (Server.Limiter, see httpauth): an
// address over its budget gets 429 with Retry-After, whatever token it
// sends, until enough of its failures have drained; other addresses are
// not affected. Manifests are
// JSON or YAML, at most 1 MiB (413 beyond), read by package api itself
// (strict decode, defaults, validation: there is no weaker fallback);
// invalid ones get 422 with the validator's field-path errors. Errors are
// JSON Status objects {kind: Status, code, reason, message, causes}.
// The request and response bodies are declared in package api/wire, so
// that clients need not import the server.
package apiserver
