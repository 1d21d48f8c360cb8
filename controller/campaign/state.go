package campaign

import (
	"time"

	"github.com/simswarm/simswarm/api"
)

// campaignState is what the reconciler remembers of one campaign between
// passes: hints that spare reads of its run records, never the truth (a
// new leader starts without them, and each part says how it is checked).
// Only stateFor creates or invalidates it, and only forget drops it.
//
// A pass owns its campaign's state without a lock: the workqueue never
// hands out a key while a pass of it runs.
type campaignState struct {
	uid string
	gen int64
	// Of the generation gen: a new spec may select other runs.
	expansion expansion
	frontier  frontier
	stop      stopState
	reuse     reuseState
	// Of the object uid: its run records are the same whatever the spec.
	counts    countEntry
	durations durationEntry
}

// expansion is the campaign's expanded run list, once known.
type expansion struct {
	runs  []int
	known bool
}

// countEntry caches a campaign's run counts. Counting scans the run
// records, which costs more the bigger the campaign (on FerretDB's SQLite
// backend, a full scan), so a count is reused for ten times what it cost
// (at most maxCountAge), adjusted for the controller's own transitions.
// What workers did (Pending to Succeeded or Failed) shows at the next
// count; until then Pending may be high, which costs at most a dispatch
// query that finds fewer records. A campaign is only declared finished on
// a fresh count (Compute).
type countEntry struct {
	valid bool
	c     api.RunCounts
	at    time.Time
	cost  time.Duration
}

// durationEntry is what the campaign's succeeded runs took, summed at at.
type durationEntry struct {
	valid bool
	d     runDurations
	at    time.Time
}

// stateFor returns the state of campaign name for the object uid at
// generation gen: a new one for a new object of the name, with the
// generation's parts reset for a new generation.
func (r *Reconciler) stateFor(name, uid string, gen int64) *campaignState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states == nil {
		r.states = map[string]*campaignState{}
	}
	s, ok := r.states[name]
	if !ok || s.uid != uid {
		s = &campaignState{uid: uid, gen: gen}
		r.states[name] = s
	}
	if s.gen != gen {
		s.gen, s.expansion, s.frontier, s.stop = gen, expansion{}, frontier{}, stopState{}
	}
	return s
}

// forget drops what the reconciler remembers of name.
func (r *Reconciler) forget(name string) {
	r.Shares.Forget(name)
	r.mu.Lock()
	delete(r.states, name)
	r.mu.Unlock()
}
