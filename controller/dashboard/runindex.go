package dashboard

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
)

// The run index: pages must not wait for the run records. Listing or
// counting 100,000 of them costs seconds on FerretDB's SQLite backend
// (every query there, even by _id, scans the collection), so the dashboard
// reads them all in one background scan and serves run lists, durations,
// throughput and recent failures from that snapshot. The scan runs only
// while someone looks (a view asked within idleAfter) and at most every
// max(minInterval, 10 × its own cost), so it never takes more than about a
// tenth of a core.

// State codes of runRow.state.
const (
	stPending uint8 = iota
	stQueued
	stRunning
	stSucceeded
	stFailed
	stSkipped
	stOther
	nStates
	stAny = nStates // page filter: every state
)

var stateNames = [nStates]string{schema.RunPending, schema.RunQueued, schema.RunRunning, schema.RunSucceeded, schema.RunFailed, schema.RunSkipped, "Other"}

func stateCode(s string) uint8 {
	for i, n := range stateNames[:stOther] {
		if n == s {
			return uint8(i)
		}
	}
	return stOther
}

// Bounds of what a snapshot keeps.
const (
	maxFailures      = 50              // most recent failed runs, with tails
	maxTailBytes     = 2048            // of each kept stderr tail
	throughputWindow = 5 * time.Minute // runs finished within it make the rate
)

// runRow is one run record, compactly (100,000 rows take a few MB).
type runRow struct {
	run        int32
	state      uint8
	attempts   int16
	exitCode   int32
	durationMS int64
	updated    int64 // unix ms
	worker     string
	message    string
}

// campaignRuns are the rows and aggregates of one campaign object.
type campaignRuns struct {
	rows   []runRow // by run number
	counts [nStates]int
	// durSumMS/durN: durations of finished runs (succeeded or failed).
	durSumMS, durN int64
	// recent is how many runs finished within throughputWindow before the
	// snapshot; firstFinish the earliest finish (unix ms, 0: none).
	recent      int
	firstFinish int64
}

// failure is one recently failed run.
type failure struct {
	Campaign   string    `json:"campaign"`
	UID        string    `json:"uid"`
	Run        int       `json:"run"`
	Attempts   int       `json:"attempts"`
	ExitCode   int       `json:"exitCode"`
	Worker     string    `json:"worker,omitempty"`
	Message    string    `json:"message,omitempty"`
	StderrTail string    `json:"stderrTail,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// snapshot is one immutable scan result.
type snapshot struct {
	at       time.Time
	cost     time.Duration
	runs     int
	byKey    map[string]*campaignRuns // campaignKey(name, uid)
	failures []failure                // newest first
}

func campaignKey(name, uid string) string { return name + "\x00" + uid }

func (s *snapshot) campaign(name, uid string) *campaignRuns {
	if s == nil {
		return nil
	}
	return s.byKey[campaignKey(name, uid)]
}

// livePage is page for the in-flight states, which the records do not
// hold (they say Pending until the outcome): the runs live maps to state,
// with their indexed rows, and how many match.
func (c *campaignRuns) livePage(live map[int]uint8, state uint8, after, limit int) ([]runRow, int, int) {
	var runs []int
	for run, st := range live {
		if st == state {
			runs = append(runs, run)
		}
	}
	sort.Ints(runs)
	matching := len(runs)
	i := sort.SearchInts(runs, after+1)
	var out []runRow
	next := -1
	for ; i < len(runs); i++ {
		if len(out) == limit {
			next = int(out[len(out)-1].run)
			break
		}
		r := runRow{run: int32(runs[i])}
		if j := sort.Search(len(c.rows), func(k int) bool { return c.rows[k].run >= r.run }); j < len(c.rows) && c.rows[j].run == r.run {
			r = c.rows[j]
		}
		r.state = state
		out = append(out, r)
	}
	return out, matching, next
}

// page returns up to limit rows with run number > after whose state is
// state (stAny: any), and the After of the next page (-1: none).
func (c *campaignRuns) page(state uint8, after, limit int) ([]runRow, int) {
	i := sort.Search(len(c.rows), func(i int) bool { return int(c.rows[i].run) > after })
	var out []runRow
	for ; i < len(c.rows); i++ {
		r := c.rows[i]
		if state != stAny && r.state != state {
			continue
		}
		if len(out) == limit {
			return out, int(out[len(out)-1].run)
		}
		out = append(out, r)
	}
	return out, -1
}

// runIndex keeps the latest snapshot and refreshes it while wanted.
type runIndex struct {
	scanner     RunScanner
	now         func() time.Time
	minInterval time.Duration
	idleAfter   time.Duration
	log         *zap.Logger

	snap    atomic.Pointer[snapshot]
	wanted  atomic.Int64 // unix ns of the latest demand
	poke    chan struct{}
	mu      sync.Mutex
	lastErr string
	started time.Time // of the scan in progress (zero: none)
}

func newRunIndex(sc RunScanner, now func() time.Time, minInterval, idleAfter time.Duration, log *zap.Logger) *runIndex {
	return &runIndex{scanner: sc, now: now, minInterval: minInterval, idleAfter: idleAfter, log: log,
		poke: make(chan struct{}, 1)}
}

// get returns the latest snapshot (nil before the first) and notes the
// demand, starting a scan if none was made yet.
func (ix *runIndex) get() *snapshot {
	ix.wanted.Store(ix.now().UnixNano())
	s := ix.snap.Load()
	if s == nil {
		ix.refreshSoon()
	}
	return s
}

// refreshSoon asks for a scan as soon as the cost bound allows.
func (ix *runIndex) refreshSoon() {
	select {
	case ix.poke <- struct{}{}:
	default:
	}
}

// IndexStatus tells a view how fresh its run data is.
type IndexStatus struct {
	At       *time.Time `json:"at,omitempty"`
	CostMS   int64      `json:"costMs"`
	Runs     int        `json:"runs"`
	Scanning bool       `json:"scanning"`
	Error    string     `json:"error,omitempty"`
}

func (ix *runIndex) status(s *snapshot) IndexStatus {
	ix.mu.Lock()
	st := IndexStatus{Scanning: !ix.started.IsZero(), Error: ix.lastErr}
	ix.mu.Unlock()
	if s != nil {
		at := s.at
		st.At, st.CostMS, st.Runs = &at, s.cost.Milliseconds(), s.runs
	}
	return st
}

func (ix *runIndex) demanded() bool {
	return ix.now().UnixNano()-ix.wanted.Load() < int64(ix.idleAfter)
}

// run refreshes the snapshot until ctx ends.
func (ix *runIndex) run(ctx context.Context) {
	for ctx.Err() == nil {
		if !ix.demanded() {
			select {
			case <-ctx.Done():
				return
			case <-ix.poke:
			}
			continue
		}
		start := time.Now()
		ix.mu.Lock()
		ix.started = start
		ix.mu.Unlock()
		s, err := ix.build(ctx)
		cost := time.Since(start)
		ix.mu.Lock()
		ix.started = time.Time{}
		ix.lastErr = ""
		if err != nil && ctx.Err() == nil {
			ix.lastErr = err.Error()
			ix.log.Warn("dashboard run index scan failed", zap.Error(err))
		}
		ix.mu.Unlock()
		if err == nil {
			s.cost = cost
			ix.snap.Store(s)
			ix.log.Debug("dashboard run index refreshed", zap.Int("runs", s.runs), zap.Duration("took", cost))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(ix.minInterval, 10*cost)):
		}
	}
}

// build scans every run record once.
func (ix *runIndex) build(ctx context.Context) (*snapshot, error) {
	at := ix.now().UTC()
	atMS := at.UnixMilli()
	windowStart := at.Add(-throughputWindow).UnixMilli()
	s := &snapshot{at: at, byKey: map[string]*campaignRuns{}}
	workers := map[string]string{} // interned worker names
	var fails []failure
	err := ix.scanner.ScanRuns(ctx, func(r *store.RunSummary) error {
		key := campaignKey(r.Campaign, r.UID)
		c := s.byKey[key]
		if c == nil {
			c = &campaignRuns{}
			s.byKey[key] = c
		}
		w, ok := workers[r.Worker]
		if !ok {
			workers[r.Worker] = r.Worker
			w = r.Worker
		}
		row := runRow{run: int32(r.Run), state: stateCode(r.State), attempts: int16(min(r.Attempts, 1<<15-1)),
			exitCode: int32(r.ExitCode), durationMS: r.DurationMS, updated: r.UpdatedAt.UnixMilli(), worker: w, message: r.Message}
		c.rows = append(c.rows, row)
		c.counts[row.state]++
		s.runs++
		if row.state == stSucceeded || row.state == stFailed {
			if r.DurationMS > 0 {
				c.durSumMS += r.DurationMS
				c.durN++
			}
			// Contract workers that do not stamp finishedAt still stamp
			// updatedAt with the outcome.
			fin := row.updated
			if r.FinishedAt != nil {
				fin = r.FinishedAt.UnixMilli()
			}
			if fin >= windowStart && fin <= atMS {
				c.recent++
			}
			if c.firstFinish == 0 || fin < c.firstFinish {
				c.firstFinish = fin
			}
		}
		if row.state == stFailed {
			tail := r.StderrTail
			if len(tail) > maxTailBytes {
				tail = tail[len(tail)-maxTailBytes:]
			}
			fails = append(fails, failure{Campaign: r.Campaign, UID: r.UID, Run: r.Run, Attempts: r.Attempts,
				ExitCode: r.ExitCode, Worker: w, Message: r.Message, StderrTail: tail, UpdatedAt: r.UpdatedAt.UTC()})
			if len(fails) > 4*maxFailures {
				fails = newestFailures(fails)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range s.byKey {
		if !sort.SliceIsSorted(c.rows, func(i, j int) bool { return c.rows[i].run < c.rows[j].run }) {
			sort.Slice(c.rows, func(i, j int) bool { return c.rows[i].run < c.rows[j].run })
		}
	}
	s.failures = newestFailures(fails)
	return s, nil
}

// newestFailures keeps the maxFailures most recent, newest first.
func newestFailures(f []failure) []failure {
	sort.Slice(f, func(i, j int) bool {
		if !f[i].UpdatedAt.Equal(f[j].UpdatedAt) {
			return f[i].UpdatedAt.After(f[j].UpdatedAt)
		}
		return f[i].Run < f[j].Run
	})
	if len(f) > maxFailures {
		f = f[:maxFailures]
	}
	return f
}
