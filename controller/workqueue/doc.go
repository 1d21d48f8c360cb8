// Package workqueue is a rate-limited work queue keyed by string (campaign
// names), in the style of client-go's workqueue, for level-triggered
// reconcilers.
//
// Usage:
//
//	q := workqueue.New(workqueue.Options{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Minute})
//	defer q.ShutDown()
//	q.Add("aloha")
//	for {
//		key, shutdown := q.Get()
//		if shutdown {
//			return
//		}
//		if err := reconcile(key); err != nil {
//			q.AddRateLimited(key) // exponential per-key backoff
//		} else {
//			q.Forget(key) // reset the backoff
//		}
//		q.Done(key)
//	}
//
// Guarantees:
//   - a key is never handed out by Get while a previous Get of it has not
//     been marked Done (no key is processed concurrently with itself); an Add
//     during processing is remembered and the key comes back after Done;
//   - a key is pending at most once (Adds of a pending key are merged);
//   - AddRateLimited delays by BaseDelay·2^n (n = failures since the last
//     Forget), capped at MaxDelay;
//   - AddAfter keeps only the earliest of several delays for one key;
//   - after ShutDown, Get returns shutdown=true once the queue is drained and
//     no new key is accepted.
//
// Time comes from an injected Clock so tests control it.
package workqueue
