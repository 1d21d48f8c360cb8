// Package campaign is the Campaign reconciler: level-triggered, idempotent,
// run by the elected leader on the controller runtime (package reconcile)
// keyed by campaign name (Controller).
//
// One pass observes the campaign, its run records (counts by state), its
// build record and the asynq queue; Compute (a pure function, table-tested)
// turns that into the desired actions and status; the pass applies them:
//
//   - expand the run list and create run records, lazily in chunks so a
//     100,000-run campaign dispatches its first runs at once. A
//     spec.simulation.runs of run numbers is the list; otherwise (every run
//     of the config, or a filter expression such as '$numHosts>10') the
//     program decides: the builder lists the runs with the built program
//     (-q runs, -r FILTER) and records them with the build (package
//     workers/runlist), asked again of the stored artifact when another
//     campaign's build is reused; the controller never counts runs itself;
//   - create the BuildRecord and enqueue the build task unless a Succeeded
//     build with the content key exists (a cache hit);
//   - keep a bounded window of run tasks queued (about a second of work:
//     the runs finished in the last second, at least 2 per worker slot and
//     32, at most 4,096; shared between campaigns by spec.priority),
//     deduplicated by asynq TaskID; short runs go several to a task
//     (batched dispatch: about a second of work by the mean duration of
//     the campaign's succeeded runs, at most 256, and no more than lets
//     what is left spread over every slot twice and the window hold two
//     tasks per slot; one run per task until one succeeded). The window
//     counts runs, not tasks; a task the queue gave up on is a failed
//     attempt of each of its runs. Send Failed runs with
//     attempts left back to Pending. A run record stays Pending while its
//     task is in the queue (the status counts it Queued or Running from the
//     queue's listing), so dispatching writes no record, and a run whose
//     task vanished (Redis wiped) is simply dispatched again, also when a
//     worker still busy with the old queue left a hash under the task's ID
//     (the half hash is removed: orphans.go);
//   - record the tasks the queue gave up on (archived: a worker refused
//     them or their retries ran out) as failures with the worker's last
//     error: a failed attempt of the run, counted against its retries, or
//     a failed build; then delete them (logged once, at warning level);
//   - remove the queued tasks of suspended and deleted campaigns; delete a
//     campaign marked deleted in passes of bounded length (batches of run
//     records by run-number window, progress in status.deletion, phase
//     Deleting), resumable by any later leader, then remove the object.
//     Its results stay as a result set under its uid (schema.ResultSet)
//     unless purged; keys PruneKey(uid) free a result set the same way;
//   - remove run records that objects gone without this left (older
//     versions), keeping their results as result sets;
//   - write the status (phase, observedGeneration, conditions Ready /
//     Reconciling / Stalled, counts, times) only when it changed, fenced by
//     the leader epoch. Workers' failures reach it: Degraded is True, with
//     the latest failure as its reason and message, while failed run
//     attempts are retried (AttemptFailed) or the queue retries a task
//     after a worker's error (TaskRetrying, BuildRetrying); each new one
//     is logged once, at warning level. It turns False when the campaign
//     succeeds.
//
// An invalid spec is terminal (Stalled, reason InvalidSpec, not retried);
// a pass fenced by a newer leader is terminal for the runtime
// (reconcile.Terminal: not retried); any other error is returned so the
// runtime retries with backoff.
// Reconciling a converged campaign again writes nothing.
package campaign
