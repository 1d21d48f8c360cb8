package campaign

import (
	"sync"
	"time"
)

// Shares divides the dispatch window (how many run tasks may be queued or
// running at once, over all campaigns) between campaigns: higher
// spec.priority first, then older campaigns, each up to its demand.
//
// The window is the larger of a floor (set from the worker count) and the
// runs finished in the last second, at most maxWindow. The controller
// refills the queue a few times a second, so a second of work keeps short
// runs from waiting for a refill; with long runs the window stays at the
// floor, so a new campaign of higher priority gets the workers soon.
type Shares struct {
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu     sync.Mutex
	floor  int
	slots  int // run slots the workers offer (SetSlots), for batch sizes
	rate   rateMeter
	demand map[string]shareEntry
}

// maxWindow bounds the window however fast runs finish.
const maxWindow = 4096

type shareEntry struct {
	priority int32
	created  time.Time
	demand   int
}

// NewShares returns Shares with a floor for the window.
func NewShares(floor int) *Shares {
	return &Shares{floor: floor, demand: map[string]shareEntry{}}
}

// WindowFor sizes the window's floor for a worker count: max(2×workers, 32).
func WindowFor(workers int) int { return max(2*workers, 32) }

// SetFloor changes the window's floor.
func (s *Shares) SetFloor(n int) {
	s.mu.Lock()
	s.floor = n
	s.mu.Unlock()
}

// Finished counts a finished run towards the rate that sizes the window.
func (s *Shares) Finished() {
	s.mu.Lock()
	s.rate.add(s.now())
	s.mu.Unlock()
}

// Total is the total window.
func (s *Shares) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total()
}

func (s *Shares) total() int {
	return max(s.floor, min(s.rate.perSecond(s.now()), maxWindow))
}

func (s *Shares) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// rateMeter counts events in one-second buckets.
type rateMeter struct {
	sec       int64 // the current bucket's second
	cur, prev int   // events in the current and the previous second
}

func (m *rateMeter) roll(t time.Time) {
	switch s := t.Unix(); {
	case s == m.sec:
	case s == m.sec+1:
		m.sec, m.prev, m.cur = s, m.cur, 0
	default:
		m.sec, m.prev, m.cur = s, 0, 0
	}
}

func (m *rateMeter) add(t time.Time) {
	m.roll(t)
	m.cur++
}

// perSecond is the events of the last whole second, or of the current
// one if it already has more.
func (m *rateMeter) perSecond(t time.Time) int {
	m.roll(t)
	return max(m.prev, m.cur)
}

// Pool is the dispatch window as one campaign sees it.
type Pool struct {
	// Total is the whole window; Ahead, the demand of the campaigns
	// before this one (higher priority, or as high and older); Slots, the
	// run slots the workers offer (0: not known).
	Total, Ahead, Slots int
}

// share is the window of a campaign with demand: what the campaigns
// before it leave, up to its demand.
func (p Pool) share(demand int) int {
	if demand <= 0 {
		return 0
	}
	return min(max(p.Total-p.Ahead, 0), demand)
}

// before orders campaigns for the window: higher priority, then older,
// then by name.
func before(a shareEntry, an string, b shareEntry, bn string) bool {
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	if !a.created.Equal(b.created) {
		return a.created.Before(b.created)
	}
	return an < bn
}

// Pool returns the window as campaign name (of priority, created then)
// sees it, leaving its own demand out.
func (s *Shares) Pool(name string, priority int32, created time.Time) Pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	me := shareEntry{priority: priority, created: created}
	ahead := 0
	for n, e := range s.demand {
		if n != name && before(e, n, me, name) {
			ahead += e.demand
		}
	}
	return Pool{Total: s.total(), Ahead: ahead, Slots: s.slots}
}

// SetDemand records a campaign's demand (runs not finished, capped by its
// parallelism; 0 drops it).
func (s *Shares) SetDemand(name string, priority int32, created time.Time, demand int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if demand <= 0 {
		delete(s.demand, name)
		return
	}
	s.demand[name] = shareEntry{priority: priority, created: created, demand: demand}
}

// Window records a campaign's demand and returns its share.
func (s *Shares) Window(name string, priority int32, created time.Time, demand int) int {
	s.SetDemand(name, priority, created, demand)
	return s.Pool(name, priority, created).share(demand)
}

// Forget drops a campaign's demand.
func (s *Shares) Forget(name string) {
	s.mu.Lock()
	delete(s.demand, name)
	s.mu.Unlock()
}
