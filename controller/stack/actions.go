package stack

import (
	"sync"
	"time"
)

// Action is one thing the reconciler did to the swarm, or failed to do,
// and why.
type Action struct {
	Time time.Time `json:"time"`
	// What names the change: "created service/simswarm_runner".
	What string `json:"what"`
	// Why says what made it necessary.
	Why string `json:"why"`
	// Err is set when the change (or the whole pass) failed.
	Err string `json:"error,omitempty"`
}

// Pass summarises the latest completed pass of Run.
type Pass struct {
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration"`
	Writes   int           `json:"writes"`
	Err      string        `json:"error,omitempty"`
}

// maxActions bounds the action log: enough to see what the last few
// incidents did, small enough to be kept by every controller.
const maxActions = 100

// actionLog is a bounded ring of recent actions plus the latest pass, safe
// for concurrent use (passes write, dashboards read).
type actionLog struct {
	mu   sync.Mutex
	ring []Action
	next int // where the next action goes once the ring is full
	last Pass
}

func (l *actionLog) add(a Action) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < maxActions {
		l.ring = append(l.ring, a)
		return
	}
	l.ring[l.next] = a
	l.next = (l.next + 1) % maxActions
}

// recent returns the logged actions, newest first.
func (l *actionLog) recent() []Action {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Action, 0, len(l.ring))
	for i := 0; i < len(l.ring); i++ {
		// Oldest is at next once the ring wrapped, at 0 before.
		out = append(out, l.ring[(l.next+i)%len(l.ring)])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (l *actionLog) setPass(p Pass) {
	l.mu.Lock()
	l.last = p
	l.mu.Unlock()
}

func (l *actionLog) lastPass() Pass {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// RecentActions returns what the reconciler did lately (at most 100
// actions), newest first.
func (r *Reconciler) RecentActions() []Action { return r.actions.recent() }

// LastPass returns the latest completed pass of Run (zero before the
// first).
func (r *Reconciler) LastPass() Pass { return r.actions.lastPass() }

// record logs an action taken now.
func (r *Reconciler) record(what, why string, err error) {
	a := Action{Time: r.now().UTC(), What: what, Why: why}
	if err != nil {
		a.Err = err.Error()
	}
	r.actions.add(a)
}
