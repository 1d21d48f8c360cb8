/*
Package campaign is the Campaign reconciler: level-triggered, idempotent,
run by the elected leader on the controller runtime (package reconcile)
keyed by campaign name (Controller), one pass per call of
Reconciler.Reconcile.

# Usage

	q := campaign.NewAsynqQueue(rdb)
	r := &campaign.Reconciler{Store: st, Tasks: q, Epoch: epoch,
		Shares:   campaign.NewShares(campaign.WindowFor(0)),
		Expander: &campaign.SpecExpander{Store: st, RequestRuns: q.EnqueueRunsQuery}}
	after, err := r.Reconcile(ctx, "aloha") // look again after `after` (0: at the next event)

The runtime must never hand out a key while a pass of it runs (the
reconciler keeps a per-campaign state that its pass owns without a lock).
A key PruneKey(uid) frees the result set of uid instead.

# One pass

Reconcile reads top to bottom, in the shape of Flux's source-controller:

  - Get the campaign. Gone without finalizing (older versions): cleanup
    removes its queued tasks and, a bounded pass at a time, its run
    records, keeping their results as result sets. Marked deleted:
    finalize does one bounded pass of the delete (batches of run records
    by run-number window, progress in status.deletion, phase Deleting),
    resumable by any later leader, then removes the object; its results
    stay as a result set under its uid (schema.ResultSet) unless purged.
    Its status is written as any pass's is (writeStatus, below).
  - Adopt (adopt): on the first look at an object, the tasks and records
    an earlier object of the name left; then the tasks the queue gave up
    on (archived: a worker refused them or their retries ran out),
    recorded as what they are, a failed attempt of each of their runs or
    a failed build, with the worker's last error, and deleted (logged
    once, at warning level).
  - Observe (observe, reads only): the spec's validity, the build record,
    the expanded run list, the campaign's live tasks in the queue, its run
    counts, the Failed runs with attempts left, the build task, the
    dispatch window as the campaign sees it (Shares.Pool) and the
    durations of its succeeded runs.
  - Compute (Compute, pure, table-tested): the whole policy. The runs to
    retry (not while suspended); the demand (runs not finished, records
    not created yet included, capped by spec.parallelism, none while
    suspended or building); the share of the window (what campaigns of
    higher spec.priority, or as high and older, leave); the batch size;
    whether to create records, start the build, dispatch or unqueue; the
    phase and conditions; finished only on a fresh count.
  - Apply (apply): record the demand, unqueue, send retried runs back to
    Pending, create run records, start the build, dispatch.
  - On the way out, whichever way the pass returns, write the status once
    (writeStatus).

# Dispatch

The run list is expanded, and run records are created, lazily in chunks,
a lead ahead of dispatch, so a 100,000-run campaign dispatches its first
runs at once: the pass that creates the first chunk also dispatches it,
up to the window the records not yet created left. The program decides which runs exist, whatever the filter:
the builder lists the runs with the built program (-q runs, with -r
FILTER for a filter expression such as '$numHosts>10') and records them
with the build (package workers/runlist), asked again of the stored
artifact when another campaign's build is reused; the controller never
counts runs itself, and creates no run record before that list. A
spec.simulation.runs of run numbers selects among the listed runs as
OMNeT++'s -r does: until the list is there the status counts the runs
named as pending (or blocked, if the build fails), and a number the
program does not list makes the spec invalid (terminal, naming every such
run) instead of a record that could never succeed. The BuildRecord is
created and the build task enqueued unless a Succeeded build with the
content key exists (a cache hit).

The window of queued run tasks is about a second of work: the runs
finished in the last second, at least 2 per worker slot (counted every
2 s from the workers' heartbeats) and 32, at most 4,096, shared between campaigns by spec.priority and deduplicated by
asynq TaskID. Short runs go several to a task (about a second of work by
the mean duration of the campaign's succeeded runs, at most 256, and no
more than lets what is left spread over every slot twice and the window
hold two tasks per slot). Until a run has succeeded nothing is known of
the durations, and a task carries up to 8 runs, as few as spread what is
left over every slot twice (one per task while the slots are not known
either): the first wave of a large cluster is not a flood of single-run
tasks, and a slot's first task holds at most 8 run times. The
window counts runs, not tasks. A run record stays Pending while its task
is in the queue (the status counts it Queued or Running from the queue's
listing), so dispatching writes no record, and a run whose task vanished
(Redis wiped) is simply dispatched again, also when a worker still busy
with the old queue left a hash under the task's ID (the half hash is
removed: orphans.go).

# Statistical stopping

A campaign with spec.stop (stop*.go) is dispatched by its rule instead
of the frontier: observe reads each run's point and repetition (the
build's run list, -q runs, asked for also when spec.simulation.runs is a
list of numbers), every record's state (three fields each, every pass)
and, when more runs succeeded, the rule's scalar of each indexed run (on
FerretDB the states of 10,000 runs take about 1.4 s, and so does a pass:
a rule suits campaigns of thousands of runs, not of millions);
Compute's decideStop (pure) ends a converged point's undispatched runs
(Pending without a task, or Failed with attempts left) as Skipped and
orders the others by repetition, then point, keeping each open point's
runs in flight to max(1, slots/open points) or what it needs to reach the
rule's minimum; a task holds runs of one repetition. Skipping writes each
record conditionally (a run a worker finished keeps its outcome); a pass
that skips never declares the campaign finished (the next, on a fresh
count, does: every run Succeeded, Failed or Skipped). status.points
counts the points, converged and missing the scalar (they run every
repetition), and Ready says how many were skipped.

# Status and conditions

The status (phase, observedGeneration, conditions, counts, times) is
written by one deferred write per pass, only when it changed, fenced by
the leader epoch: a deposed leader's write is refused (store.ErrFenced)
and changes nothing. Conditions follow kstatus: Ready is always there and
summarises (True only when every run succeeded); Reconciling (Building,
Running, CreatingRuns, WaitingForCapacity, Deleting) and Stalled
(InvalidSpec, BuildFailed, RunsFailed) are there only while True, each
with its own reason, which Ready repeats; a suspended campaign has
neither. A pass that fails also says so: Ready False with the error's
reason (QueueUnavailable when Redis cannot be reached) and text,
Reconciling True with ProgressingWithRetry, until a pass succeeds; wait
and describe show it. A delete's pass is no exception: its one write
holds the progress it made (status.deletion) and, if it failed, the
error; it never writes back an older count than the object had, and a
first pass that could not unqueue leaves the phase as it was (so that
the next pass unqueues again).

Workers' failures reach the status: Degraded is True, with the latest
failure as its reason and message, while failed run attempts are retried
(AttemptFailed) or the queue retries a task after a worker's error
(TaskRetrying, BuildRetrying); each new one is logged once, at warning
level. It turns False when the campaign succeeds.

# Guarantees

  - An invalid spec is terminal: Stalled, reason InvalidSpec, and the pass
    returns no error, so it is not retried (a new generation is looked
    at again). A pass fenced by a newer leader returns store.ErrFenced,
    terminal for the runtime (Controller makes it reconcile.Terminal: not
    retried). Any other error is transient: returned, so that the runtime
    retries the key with backoff, and shown in the status.
  - A campaign is declared finished only on a fresh count of its run
    records, never on counts taken from its state.
  - Reconciling a converged campaign again writes nothing.
  - The per-campaign state (expansion, counts, dispatch frontier, run
    durations) is a hint that spares reads of run records, never the
    truth: stateFor alone creates or invalidates it (a new object of the
    name, a new generation), forget alone drops it, and a new leader
    starts without it.
  - Reuse by content (reuse.go): run records are created with their
    identity from the build's run list; with spec.reuse (the default) a
    run whose identity a succeeded run of another campaign object has is
    created Succeeded with copies of that run's files, its completion and
    result index document (store.StoreReused), never dispatched; the
    frontier steps over such runs, and a task a new leader sends for one
    anyway finds its completion and runs nothing.
*/
package campaign
