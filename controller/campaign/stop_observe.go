package campaign

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/runlist"
)

// stopState is what the reconciler remembers of a campaign's stop rule
// between passes, of one generation: each run's point and repetition (from
// the build's run list, which never changes) and the rule's scalar of the
// runs the index had when it was last read.
type stopState struct {
	runs   []StopRun // by run number: Run, Point, Repetition
	points []string
	known  bool
	// values by run: what the index held of the succeeded runs counted in
	// scanned (read again when more runs succeeded).
	values  map[int]float64
	indexed map[int]bool
	scanned int
}

// observeStop reads what the stop rule of c needs (once the build
// succeeded and the runs are known): the runs' points, their records'
// states, and the rule's scalar of the succeeded ones. It leaves o.Stop nil
// while the run list with the iteration variables is not there yet (it asks
// a builder for it).
func (r *Reconciler) observeStop(ctx context.Context, s *campaignState, c *api.Campaign, o *Observed, live map[int]string) error {
	st := &s.stop
	if !st.known {
		ok, err := r.stopPoints(ctx, s, c, o)
		if err != nil || !ok {
			return err
		}
	}
	states, err := r.Store.RunStates(ctx, c.Metadata.Name, c.Metadata.UID)
	if err != nil {
		return err
	}
	obs := &StopObservation{Rule: *c.Spec.Stop, Points: st.points, Runs: make([]StopRun, len(st.runs)),
		MaxAttempts: maxAttempts(c.Spec)}
	copy(obs.Runs, st.runs)
	succeeded := 0
	for _, rs := range states {
		i := sort.Search(len(obs.Runs), func(i int) bool { return obs.Runs[i].Run >= rs.Run })
		if i == len(obs.Runs) || obs.Runs[i].Run != rs.Run {
			continue // not selected by this generation's spec
		}
		obs.Runs[i].State, obs.Runs[i].Attempts = rs.State, rs.Attempts
		if rs.State == schema.RunSucceeded {
			succeeded++
		}
	}
	if succeeded > st.scanned {
		if err := r.scanStopValues(ctx, c, st); err != nil {
			return err
		}
		st.scanned = succeeded
	}
	for i := range obs.Runs {
		rn := &obs.Runs[i]
		_, rn.Live = live[rn.Run]
		rn.Value, rn.HasValue = st.values[rn.Run]
		rn.Indexed = st.indexed[rn.Run]
	}
	o.Stop = obs
	return nil
}

// scanStopValues reads the rule's scalar of every indexed run of c.
func (r *Reconciler) scanStopValues(ctx context.Context, c *api.Campaign, st *stopState) error {
	scalar := c.Spec.Stop.Scalar
	keep := func(module, name string) bool {
		return len(module)+1+len(name) == len(scalar) && scalar[:len(module)] == module &&
			scalar[len(module)] == '.' && scalar[len(module)+1:] == name
	}
	values, indexed := map[int]float64{}, map[int]bool{}
	err := r.Store.ScanResultIndex(ctx, c.Metadata.UID, keep, func(d *resultindex.Doc) error {
		indexed[d.Run] = true
		if len(d.Values) > 0 {
			values[d.Run] = d.Values[0].Value
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the result index for the stop rule: %w", err)
	}
	st.values, st.indexed = values, indexed
	return nil
}

// stopPoints reads the run list of c's build with the iteration variables
// and splits the expanded runs into points and repetitions. It reports
// false while the list is not there (it asked a builder for it).
func (r *Reconciler) stopPoints(ctx context.Context, s *campaignState, c *api.Campaign, o *Observed) (bool, error) {
	q := runlist.QueryOf(c.Spec.Simulation)
	rec, err := runlist.Get(ctx, r.Store.DB, runlist.ID(o.BuildKey, q))
	if err != nil {
		return false, err
	}
	if rec == nil {
		// A list of run numbers is expanded without the program; the
		// points need its -q runs all the same.
		e, ok := r.Expander.(*SpecExpander)
		if !ok || e.RequestRuns == nil {
			o.SpecErr = fmt.Errorf("%w: spec.stop: this controller cannot ask a builder for the runs' iteration variables", ErrInvalid)
			return false, nil
		}
		sim := c.Spec.Simulation
		return false, e.RequestRuns(ctx, schema.BuildTask{Campaign: c.Metadata.Name, UID: c.Metadata.UID, Key: o.BuildKey,
			Source: c.Spec.Source, Build: c.Spec.Build, Simulation: &sim})
	}
	if rec.State == runlist.StateFailed {
		o.SpecErr = fmt.Errorf("%w: spec.stop: the program could not list the runs' iteration variables: %s", ErrInvalid, rec.Error)
		return false, nil
	}
	infos, err := runlist.Runs(ctx, r.Store.DB, rec)
	if err != nil {
		return false, err
	}
	vars := make(map[int]string, len(infos))
	for _, ri := range infos {
		vars[ri.Number] = ri.Vars
	}
	st := &s.stop
	st.runs, st.points = stopRuns(s.expansion.runs, vars)
	st.known = true
	return true, nil
}

// stopRuns gives each of the runs (ascending) its point and repetition by
// its iteration variables (vars by run number); points are numbered in
// the order of their first run. A run the list does not have is a point
// of its own.
func stopRuns(runs []int, vars map[int]string) ([]StopRun, []string) {
	out := make([]StopRun, len(runs))
	var points []string
	index := map[string]int{}
	for i, run := range runs {
		v, ok := vars[run]
		label, rep := pointOf(v)
		switch {
		case !ok:
			label = "run " + strconv.Itoa(run) + " (not listed by the program)"
		case label == "":
			label = "(no iteration variables)"
		}
		p, seen := index[label]
		if !seen {
			p = len(points)
			index[label] = p
			points = append(points, label)
		}
		out[i] = StopRun{Run: run, Point: p, Repetition: rep}
	}
	return out, points
}
