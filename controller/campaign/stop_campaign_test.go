package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/hibiken/asynq"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
	"github.com/simswarm/simswarm/workers/runlist"
)

// stopPoint is a parameter point of the test campaign: its scalar's mean
// and spread over repetitions (missing: its runs do not have the scalar).
type stopPoint struct {
	mean, sd float64
	missing  bool
}

const stopScalar = "Aloha.server.channelUtilization:last"

// stopPoints: two points converge at the minimum (3 repetitions), two a
// few repetitions later, one is far too noisy to converge in 10, one has
// no such scalar.
var stopTestPoints = []stopPoint{{1, 0.001, false}, {2, 0.05, false}, {1, 0.5, false}, {1, 0, true}, {-3, 0.01, false}, {0.5, 0.02, false}}

const stopReps = 10

// TestStopRuleCampaign: a campaign with a stop rule, on real Redis and
// FerretDB, whose runs a test worker plays (it records each run's outcome
// and index document as the runner does, four runs a round) ends Succeeded
// with fewer runs than its sweep: every point whose runs were skipped has
// an interval, recomputed from the result index, that meets the rule;
// the others ran all their repetitions; the skipped runs are Skipped, not
// Failed; no task held runs of two repetitions; and a pass over the
// finished campaign writes nothing.
func TestStopRuleCampaign(t *testing.T) { stopCampaign(t, nil) }

// TestStopRuleCampaignSurvivesRedisWipeAndSuspend: the same campaign
// ends the same way when Redis loses every queued task mid-way (the runs
// are dispatched again) and when it is suspended (nothing is sent or
// skipped, the queued runs are taken back) and resumed.
func TestStopRuleCampaignSurvivesRedisWipeAndSuspend(t *testing.T) {
	ctx := context.Background()
	suspend := func(e *env, on bool) {
		c, err := e.st.Get(ctx, "stop")
		if err != nil {
			t.Fatal(err)
		}
		c.Spec.Suspend = on
		if _, err := e.st.Update(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	stopCampaign(t, func(e *env, round int) {
		switch round {
		case 3:
			if err := e.rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		case 5:
			suspend(e, true)
		case 6:
			e.reconcile(t, "stop")
			if c, _ := e.st.Get(ctx, "stop"); c.Status.Phase != api.PhaseSuspended || len(e.tasks(t, "stop", c.Metadata.UID)) != 0 {
				t.Fatalf("suspended: phase %s, %d tasks queued", c.Status.Phase, len(e.tasks(t, "stop", c.Metadata.UID)))
			}
			suspend(e, false)
		}
	})
}

// stopCampaign runs the stop rule campaign to its end, calling disrupt
// (if not nil) before each round's pass.
func stopCampaign(t *testing.T, disrupt func(e *env, round int)) {
	e := newEnv(t)
	ctx := context.Background()
	c := newCampaign("stop", "")
	c.Spec.Stop = &api.StopRule{Scalar: stopScalar, RelativeHalfWidth: 0.05}
	api.SetDefaults(c)
	c, err := e.st.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	uid := c.Metadata.UID
	e.reconcile(t, "stop")
	c, _ = e.st.Get(ctx, "stop")
	key := c.Status.Build.Key
	e.finishBuild(t, key)
	// The builder's run list: run p*10+r is point p's repetition r.
	var infos []oppcli.RunInfo
	for p := range stopTestPoints {
		for r := range stopReps {
			infos = append(infos, oppcli.RunInfo{Number: p*stopReps + r, Vars: fmt.Sprintf("$iaMean=%d, $numHosts=10, $repetition=%d", p, r)})
		}
	}
	if err := runlist.Save(ctx, e.st.DB, runlist.ID(key, runlist.QueryOf(c.Spec.Simulation)), key, infos); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	succeeded := map[int]bool{}
	for round := 0; ; round++ {
		if round > 200 {
			t.Fatalf("not finished after %d rounds: %+v", round, c.Status)
		}
		if disrupt != nil {
			disrupt(e, round)
		}
		e.reconcile(t, "stop")
		c, _ = e.st.Get(ctx, "stop")
		if c.Status.Phase == api.PhaseSucceeded {
			break
		}
		tasks, err := e.q.Inspector.ListPendingTasks(schema.QueueRun, asynq.PageSize(1000))
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, tk := range tasks {
			if done >= 4 {
				break
			}
			var rt schema.RunTask
			if err := json.Unmarshal(tk.Payload, &rt); err != nil {
				t.Fatal(err)
			}
			reps := map[int]bool{}
			for _, it := range rt.Items() {
				reps[it.Run%stopReps] = true
				if succeeded[it.Run] {
					t.Fatalf("run %d dispatched again after it succeeded", it.Run)
				}
				succeeded[it.Run] = true
				e.playRun(t, uid, it.Run, rng)
				done++
			}
			if len(reps) != 1 {
				t.Fatalf("task %s holds runs of repetitions %v", tk.ID, reps)
			}
			if err := e.q.Inspector.DeleteTask(schema.QueueRun, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	n := e.counts(t, "stop", uid)
	total := int64(len(stopTestPoints) * stopReps)
	if n.Total != total || n.Succeeded+n.Skipped != total || n.Failed != 0 || n.Skipped == 0 {
		t.Fatalf("counts %+v: want %d runs, succeeded or skipped, some skipped", n, total)
	}
	if c.Status.Runs.Skipped != n.Skipped || c.Status.Runs.Succeeded != n.Succeeded {
		t.Fatalf("status counts %+v, records %+v", c.Status.Runs, n)
	}
	t.Logf("%d of %d runs ran, %d skipped; status: %s", n.Succeeded, total, n.Skipped, c.Status.Conditions[0].Message)

	// Recompute every point's interval from the index and check each
	// point's records against it.
	values := map[int][]float64{}
	if err := e.st.ScanResultIndex(ctx, uid, nil, func(d *resultindex.Doc) error {
		for _, v := range d.Values {
			if v.Module+"."+v.Name == stopScalar {
				values[d.Run/stopReps] = append(values[d.Run/stopReps], v.Value)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	recs, err := e.st.RunStates(ctx, "stop", uid)
	if err != nil {
		t.Fatal(err)
	}
	states := map[int]map[string]int{}
	for _, r := range recs {
		p := r.Run / stopReps
		if states[p] == nil {
			states[p] = map[string]int{}
		}
		states[p][r.State]++
	}
	converged := 0
	for p, sp := range stopTestPoints {
		_, _, half := resulttable.Interval(values[p], 0.95)
		mean, _, _ := resulttable.Interval(values[p], 0.95)
		meets := len(values[p]) >= 3 && half <= 0.05*math.Abs(mean)
		skipped := states[p][schema.RunSkipped]
		t.Logf("point %d: %d ran, %d skipped, mean %.4g ± %.3g", p, states[p][schema.RunSucceeded], skipped, mean, half)
		switch {
		case skipped > 0:
			converged++
			if !meets {
				t.Errorf("point %d: %d runs skipped, but its interval %.4g ± %.3g (n=%d) does not meet the rule", p, skipped, mean, half, len(values[p]))
			}
		case states[p][schema.RunSucceeded] != stopReps:
			t.Errorf("point %d did not converge but ran %d of %d repetitions: %v", p, states[p][schema.RunSucceeded], stopReps, states[p])
		}
		if sp.missing || sp.sd > 0.1 {
			if skipped > 0 {
				t.Errorf("point %d (sd %v, missing %v) converged", p, sp.sd, sp.missing)
			}
		} else if skipped == 0 {
			t.Errorf("point %d (mean %v, sd %v) ran all %d repetitions", p, sp.mean, sp.sd, stopReps)
		}
	}
	// Points 0 and 4 converge at the minimum: 7 of their 10 skipped.
	for _, p := range []int{0, 4} {
		if states[p][schema.RunSkipped] != stopReps-3 {
			t.Errorf("point %d: %d skipped, want %d", p, states[p][schema.RunSkipped], stopReps-3)
		}
	}
	pts := c.Status.Points
	if pts == nil || pts.Total != int64(len(stopTestPoints)) || pts.Converged != int64(converged) || pts.Missing != 1 ||
		pts.Message != "1 point cannot converge: no finished run of theirs has "+stopScalar+" ($iaMean=3, $numHosts=10)" {
		t.Fatalf("status.points %+v, want %d of %d converged, point 3 missing", pts, converged, len(stopTestPoints))
	}
	var skippedRec schema.RunRecord
	if err := e.st.DB.Collection(schema.CollRuns).FindOne(ctx, bson.M{"campaign": "stop", "state": schema.RunSkipped}).Decode(&skippedRec); err != nil {
		t.Fatal(err)
	}
	if skippedRec.Message != skipMessage || skippedRec.Attempts != 0 {
		t.Fatalf("a skipped record: %+v", skippedRec)
	}
	// Converged: another pass writes nothing.
	rv := c.Metadata.ResourceVersion
	e.reconcile(t, "stop")
	if c2, _ := e.st.Get(ctx, "stop"); c2.Metadata.ResourceVersion != rv {
		t.Fatalf("a pass over the finished campaign wrote its status: %+v", c2.Status)
	}
}

// playRun records run's outcome as a runner does: its index document
// (the scalar drawn around its point's mean, or another scalar only),
// then its record Succeeded.
func (e *env) playRun(t *testing.T, uid string, run int, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	p, rep := run/stopReps, run%stopReps
	sp := stopTestPoints[p]
	doc := &resultindex.Doc{ID: schema.RunID("stop", uid, run), Campaign: "stop", UID: uid, Run: run, Attempt: 1,
		Repetition: strconv.Itoa(rep), Itervars: []resultindex.KV{{Name: "iaMean", Value: strconv.Itoa(p)}, {Name: "numHosts", Value: "10"}},
		Values: resultindex.Values{{Module: "Aloha.server", Name: "duration", Value: 1000}}}
	if !sp.missing {
		doc.Values = append(doc.Values, resultindex.Value{Module: "Aloha.server", Name: "channelUtilization:last", Value: sp.mean + sp.sd*rng.NormFloat64()})
	}
	if errs, err := resultindex.Insert(ctx, e.st.DB, []*resultindex.Doc{doc}); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	if _, err := e.st.DB.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": doc.ID},
		bson.M{"$set": bson.M{"state": schema.RunSucceeded, "attempts": 1}}); err != nil {
		t.Fatal(err)
	}
}
