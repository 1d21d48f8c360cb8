package dashboard

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// ResultIndex reads a campaign object's result index: the scalars of its
// indexed runs. Optional (without it the Results tab says so);
// *store.Store satisfies it.
type ResultIndex interface {
	ScanResultIndex(ctx context.Context, uid string, keep func(module, name string) bool, fn func(*resultindex.Doc) error) error
}

// maxScalarNames bounds the scalar names a Results view lists (an INET
// run has thousands; the page offers a filter box over them).
const maxScalarNames = 5000

// ResultsPage is a campaign's Results tab: the scalar chosen (as
// "<module>.<name>", the form `simswarm results table --scalar` takes),
// its mean and 95% confidence half-width per point of the iteration
// variables (resulttable's numbers), grouped into one series per value of
// the series variable (and of any other variable but x, so that no two
// points are averaged together).
type ResultsPage struct {
	Campaign  CampaignSummary `json:"campaign"`
	Available bool            `json:"available"`
	// Scalars are the names the index holds, sorted; ScalarsCut counts
	// those beyond maxScalarNames.
	Scalars    []string `json:"scalars"`
	ScalarsCut int      `json:"scalarsCut,omitempty"`
	// Vars are the iteration variables (without the repetition).
	Vars []string `json:"vars"`
	// Scalar, X and Series are the choices in effect (defaults filled in).
	Scalar       string       `json:"scalar"`
	X            string       `json:"x"`
	SeriesVar    string       `json:"seriesVar"`
	Series       []PlotSeries `json:"series"`
	Runs         int          `json:"runs"` // runs indexed so far
	Problems     []string     `json:"problems,omitempty"`
	ProblemCount int          `json:"problemCount,omitempty"`
	// CostMS is what reading the index took; the view is recomputed at
	// most every max(IndexMinInterval, 10 × that).
	CostMS int64     `json:"costMs"`
	At     time.Time `json:"at"`
}

// PlotSeries is one line of the plot.
type PlotSeries struct {
	Label  string      `json:"label"`
	Points []PlotPoint `json:"points"`
}

// PlotPoint is one point: the x variable's value and the statistics of the
// scalar over the point's repetitions.
type PlotPoint struct {
	X    string             `json:"x"`
	N    int                `json:"n"`
	Mean resulttable.Number `json:"mean"`
	CI95 resulttable.Number `json:"ci95"`
}

// resultsCache keeps computed Results views: reading the index of a large
// campaign costs seconds, and every open tab's stream asks every
// StreamInterval.
type resultsCache struct {
	mu      sync.Mutex
	entries map[string]*resultsEntry
}

type resultsEntry struct {
	mu   sync.Mutex // held while computing
	at   time.Time
	cost time.Duration
	page *ResultsPage
}

// maxResultsEntries bounds the cache (choices are query parameters).
const maxResultsEntries = 64

func (c *resultsCache) entry(key string, now time.Time) *resultsEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*resultsEntry{}
	}
	e := c.entries[key]
	if e == nil {
		if len(c.entries) >= maxResultsEntries {
			for k, o := range c.entries {
				if o.mu.TryLock() {
					stale := now.Sub(o.at) > time.Minute
					o.mu.Unlock()
					if stale {
						delete(c.entries, k)
					}
				}
			}
		}
		e = &resultsEntry{}
		if len(c.entries) < maxResultsEntries {
			c.entries[key] = e
		}
	}
	return e
}

// resultsPage computes (or reuses) a campaign's Results view.
func (s *Server) resultsPage(ctx context.Context, v viewSpec) (*ResultsPage, error) {
	c, err := s.cfg.Campaigns.Get(ctx, v.Name)
	if err != nil {
		return nil, err
	}
	sum := summarize(c, s.index.get(), s.now())
	if s.cfg.Results == nil {
		return &ResultsPage{Campaign: sum, Scalars: []string{}, Vars: []string{}, Series: []PlotSeries{}, At: s.now().UTC()}, nil
	}
	e := s.results.entry(c.Metadata.UID+"\x00"+v.key(), s.now())
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.page != nil && s.now().Sub(e.at) < max(s.cfg.IndexMinInterval, 10*e.cost) {
		p := *e.page
		p.Campaign = sum
		return &p, nil
	}
	t0 := time.Now()
	p, err := s.readResults(ctx, c.Metadata.UID, v.Scalar, v.X, v.Series)
	if err != nil {
		return nil, err
	}
	e.cost = time.Since(t0)
	p.CostMS = e.cost.Milliseconds()
	p.Campaign = sum
	p.At = s.now().UTC()
	e.page, e.at = p, s.now()
	return p, nil
}

type valueName struct{ module, name string }

// readResults reads the index of campaign object uid once: the names it
// holds, and the table of the chosen scalar (by default the first value
// of the first run read), plotted against x by series.
func (s *Server) readResults(ctx context.Context, uid, scalar, x, series string) (*ResultsPage, error) {
	names := map[valueName]struct{}{}
	b := resulttable.NewBuilder(nil)
	// keep sees every name (once per segment, or per value of a run not
	// compacted yet) and keeps the chosen scalar's values only; without a
	// choice, the first name read is the choice.
	keep := func(module, name string) bool {
		names[valueName{module, name}] = struct{}{}
		if scalar == "" {
			scalar = module + "." + name
		}
		return len(module)+1+len(name) == len(scalar) && strings.HasPrefix(scalar, module) &&
			scalar[len(module)] == '.' && strings.HasSuffix(scalar, name)
	}
	err := s.cfg.Results.ScanResultIndex(ctx, uid, keep, func(d *resultindex.Doc) error {
		if d.Error != "" {
			if d.Indexed == 0 {
				b.Problem(fmt.Sprintf("run %d: %s", d.Run, d.Error))
				return nil
			}
			b.Problem(fmt.Sprintf("run %d (partly indexed): %s", d.Run, d.Error))
		}
		b.AddRun(d.Itervars, d.Values)
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := b.Table()
	p := &ResultsPage{Available: true, Scalars: make([]string, 0, min(len(names), maxScalarNames)), Vars: t.Vars,
		Scalar: scalar, Runs: t.Runs, Problems: t.Problems, ProblemCount: t.ProblemCount, Series: []PlotSeries{}}
	for k := range names {
		p.Scalars = append(p.Scalars, k.module+"."+k.name)
	}
	sort.Strings(p.Scalars)
	if len(p.Scalars) > maxScalarNames {
		p.ScalarsCut = len(p.Scalars) - maxScalarNames
		p.Scalars = p.Scalars[:maxScalarNames]
	}
	p.X, p.SeriesVar = plotAxes(t.Vars, x, series)
	p.Series = plotSeries(t, p.X, p.SeriesVar)
	return p, nil
}

// plotAxes fills in the defaults: x the first variable, the series the
// next one; a choice that names no variable is replaced by its default,
// and the series is never x.
func plotAxes(vars []string, x, series string) (string, string) {
	if !slices.Contains(vars, x) {
		x = ""
		if len(vars) > 0 {
			x = vars[0]
		}
	}
	if series == x || (series != "" && !slices.Contains(vars, series)) {
		series = ""
	}
	if series == "" {
		for _, v := range vars {
			if v != x {
				series = v
				break
			}
		}
	}
	return x, series
}

// plotSeries groups t's rows into series: one per value of the series
// variable and of every other variable but x (labelled in that order), the
// points in t's order (by variable value).
func plotSeries(t *resulttable.Table, x, series string) []PlotSeries {
	xi := slices.Index(t.Vars, x)
	var order []int // the series variable first, then the others
	if i := slices.Index(t.Vars, series); i >= 0 {
		order = append(order, i)
	}
	for i, v := range t.Vars {
		if v != x && v != series {
			order = append(order, i)
		}
	}
	byLabel := map[string]*PlotSeries{}
	var out []PlotSeries
	var labels []string
	for _, r := range t.Rows {
		parts := make([]string, 0, len(order))
		for _, i := range order {
			parts = append(parts, t.Vars[i]+"="+r.Vars[i])
		}
		label := strings.Join(parts, ", ")
		ps := byLabel[label]
		if ps == nil {
			ps = &PlotSeries{Label: label}
			byLabel[label] = ps
			labels = append(labels, label)
		}
		pt := PlotPoint{N: r.N, Mean: r.Mean, CI95: r.CI95}
		if xi >= 0 {
			pt.X = r.Vars[xi]
		}
		ps.Points = append(ps.Points, pt)
	}
	for _, l := range labels {
		out = append(out, *byLabel[l])
	}
	if out == nil {
		out = []PlotSeries{}
	}
	return out
}
