/*
Package reconcile is the controller runtime of simswarm: it runs a
level-triggered reconcile function over a work queue of string keys, the
way controller-runtime's controller runs a Reconciler. Both reconcilers of
the controller process use it: the campaign controller (one key per
campaign) and the stack reconciler (one key: the stack).

# Usage

Give New the pass and, for the periodic resync, the list of all keys;
run Start until leadership or the process ends; feed events with Add:

	c := reconcile.New(reconcile.Options{
		Name:      "campaign",
		Workers:   2,
		Resync:    30 * time.Second,
		Keys:      listCampaignNames,
		Reconcile: func(ctx context.Context, key string) (reconcile.Result, error) {
			...
			return reconcile.Result{RequeueAfter: 5 * time.Second}, nil
		},
		Observe: metrics.ObserveReconcile("campaign"),
	})
	go watchEvents(func(name string) { c.Add(name) })
	err := c.Start(ctx) // returns when ctx ends

A pass observes the world afresh every time, so events only say "look at
this key soon"; a dropped or merged event delays a change, never loses it.

# Results and errors

A pass ends in one of four ways:

  - nil error: the key's backoff is forgotten; with Result.RequeueAfter
    the key comes back after that long, otherwise at the next event or
    resync.
  - a transient error (any error not marked Terminal): logged, counted,
    and the key is retried after its backoff, BaseDelay·2^n for the n-th
    failure in a row, capped at MaxDelay (workqueue.Queue.AddRateLimited).
  - a terminal error (Terminal(err), tested with IsTerminal): logged and
    counted, not retried; the key comes back only at its next event or
    resync (a newer leader holds the epoch, a spec cannot be valid).
  - a panic: recovered, logged with its stack, counted as an error and
    retried like a transient error. The controller process also serves
    the API and the dashboard; one bad pass must not take them down.

Options.Observe sees every pass's duration and error (the reconcile
metric), except passes cut short by the end of Start's context.

# Guarantees

  - a key is never reconciled by two workers at once; an Add during its
    pass is kept and the key passes again afterwards;
  - a key is pending at most once; of several delays, the earliest wins;
  - Start adds every key of Options.Keys at once, then again after each
    jittered wait: Resync scaled by a factor in [0.8, 1.2) (Jittered), so
    that controllers started together do not align;
  - when Start's context ends no new pass begins, and Start returns only
    after the passes in flight have returned;
  - time comes from Options.Clock and randomness from Options.Jitter, so
    tests control both; nothing is global.
*/
package reconcile
