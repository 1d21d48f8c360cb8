package campaign

import (
	"sort"
	"sync"
	"time"
)

// Shares divides the dispatch window (how many run tasks may be queued or
// running at once, over all campaigns) between campaigns: higher
// spec.priority first, then older campaigns, each up to its demand.
type Shares struct {
	mu     sync.Mutex
	total  int
	demand map[string]shareEntry
}

type shareEntry struct {
	priority int32
	created  time.Time
	demand   int
}

// NewShares returns Shares with a total window.
func NewShares(total int) *Shares {
	return &Shares{total: total, demand: map[string]shareEntry{}}
}

// WindowFor sizes the window for a worker count: max(2×workers, 32).
func WindowFor(workers int) int { return max(2*workers, 32) }

// SetTotal changes the total window.
func (s *Shares) SetTotal(n int) {
	s.mu.Lock()
	s.total = n
	s.mu.Unlock()
}

// Total is the total window.
func (s *Shares) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Window records a campaign's demand (runs not finished, capped by its
// parallelism) and returns its share.
func (s *Shares) Window(name string, priority int32, created time.Time, demand int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if demand <= 0 {
		delete(s.demand, name)
		return 0
	}
	s.demand[name] = shareEntry{priority: priority, created: created, demand: demand}
	names := make([]string, 0, len(s.demand))
	for n := range s.demand {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.demand[names[i]], s.demand[names[j]]
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		if !a.created.Equal(b.created) {
			return a.created.Before(b.created)
		}
		return names[i] < names[j]
	})
	left := s.total
	for _, n := range names {
		give := min(left, s.demand[n].demand)
		if n == name {
			return give
		}
		left -= give
	}
	return 0
}

// Forget drops a campaign's demand.
func (s *Shares) Forget(name string) {
	s.mu.Lock()
	delete(s.demand, name)
	s.mu.Unlock()
}
