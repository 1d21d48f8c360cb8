package runlist

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api"
)

// Vars are a run list's iteration variables by run number, as the program
// lists them ("$iaMean=1, $numHosts=10, $repetition=0").
type Vars struct {
	nums []int
	vars []string
}

// Of returns run's variables ("" for a run the list does not have).
func (v *Vars) Of(run int) string {
	if v == nil {
		return ""
	}
	i := sort.SearchInts(v.nums, run)
	if i < len(v.nums) && v.nums[i] == run {
		return v.vars[i]
	}
	return ""
}

// Len is the number of runs listed.
func (v *Vars) Len() int {
	if v == nil {
		return 0
	}
	return len(v.nums)
}

// DefaultCacheRuns bounds a Cache: about 50 MB of variables.
const DefaultCacheRuns = 1 << 20

// Cache keeps the iteration variables of recently read run lists in
// memory, so that pages of runs (the API's, the dashboard's) show each
// run's variables without reading the list's file every time. A list does
// not change once written (its ID names the build and the query); each
// lookup still reads the list's record (one query by _id) and reads the
// file again if the record names another one. Safe for concurrent use.
type Cache struct {
	DB *mongo.Database
	// MaxRuns bounds the runs kept (least recently used lists go first);
	// default DefaultCacheRuns. A list longer than that is read every time.
	MaxRuns int

	mu      sync.Mutex
	entries map[string]*cacheEntry
	runs    int
	tick    uint64
}

type cacheEntry struct {
	mu     sync.Mutex // held while reading the file
	fileID any
	vars   *Vars
	used   uint64
}

// OfCampaign returns the variables of campaign c's runs: the run list of
// its build (status.build.key) and simulation spec, or nil while there is
// none (no build yet, the list not written yet, or the program could not
// list the runs).
func (c *Cache) OfCampaign(ctx context.Context, cp *api.Campaign) (*Vars, error) {
	if cp.Status.Build.Key == "" || len(cp.Spec.Simulation.Program) == 0 {
		return nil, nil
	}
	return c.Get(ctx, ID(cp.Status.Build.Key, QueryOf(cp.Spec.Simulation)))
}

// Get returns run list id's variables, or nil if the list is not there or
// failed.
func (c *Cache) Get(ctx context.Context, id string) (*Vars, error) {
	rec, err := Get(ctx, c.DB, id)
	if err != nil || rec == nil || rec.State != StateSucceeded {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*cacheEntry{}
	}
	e := c.entries[id]
	if e == nil {
		e = &cacheEntry{}
		c.entries[id] = e
	}
	c.tick++
	e.used = c.tick
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.vars != nil && fmt.Sprint(e.fileID) == fmt.Sprint(rec.FileID) {
		return e.vars, nil
	}
	v := &Vars{nums: make([]int, 0, rec.Count), vars: make([]string, 0, rec.Count)}
	if err := scan(ctx, c.DB, rec, func(n int, vars, _ string) {
		v.nums = append(v.nums, n)
		v.vars = append(v.vars, vars)
	}); err != nil {
		return nil, err
	}
	c.keep(id, e, rec.FileID, v)
	return v, nil
}

// keep stores v in e (held by the caller) and evicts the least recently
// used lists beyond MaxRuns.
func (c *Cache) keep(id string, e *cacheEntry, fileID any, v *Vars) {
	limit := c.MaxRuns
	if limit <= 0 {
		limit = DefaultCacheRuns
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.entries[id]; o != nil {
		c.runs -= o.vars.Len()
		delete(c.entries, id)
	}
	e.vars, e.fileID = nil, nil
	if v.Len() > limit {
		return
	}
	for c.runs+v.Len() > limit {
		var oldest string
		var oe *cacheEntry
		for k, o := range c.entries {
			if o.vars != nil && (oe == nil || o.used < oe.used) {
				oldest, oe = k, o
			}
		}
		if oe == nil {
			break
		}
		c.runs -= oe.vars.Len()
		delete(c.entries, oldest)
	}
	e.vars, e.fileID = v, fileID
	c.entries[id] = e
	c.runs += v.Len()
}
