package campaign

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/resulttable"
	"github.com/simswarm/simswarm/workers/scafile"
)

// alohaRepeat and alohaSimTime make the aloha example's PureAloha sweep
// (15 points) noisy enough for the rule to matter: 20 repetitions of
// 500 simulated seconds each.
const (
	alohaRepeat  = 20
	alohaSimTime = "500s"
	alohaScalar  = "Aloha.channel.throughput"
)

// TestStopRuleOnAloha shows how many runs the stop rule saves on the
// aloha example (examples/aloha, the real model, built here): it runs
// the whole PureAloha sweep with 20 repetitions once, then plays the
// rule's policy (decideStop, as the reconciler calls it) over those
// results with 4 slots, each round finishing the runs in flight, for
// three precisions of the channel throughput. It prints the runs each
// needs; every point the rule stopped early has an interval that meets
// it, every other point ran all 20 repetitions.
func TestStopRuleOnAloha(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "examples", "aloha")
	files, _ := filepath.Glob(filepath.Join(src, "*.[ch]"))
	for _, f := range append(files, filepath.Join(src, "Makefile"), filepath.Join(src, "omnetpp.ini")) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "omnetpp.ini" {
			ini := string(data)
			for from, to := range map[string]string{"repeat = 2\n": "repeat = " + strconv.Itoa(alohaRepeat) + "\n",
				"sim-time-limit = 1000000s\n": "sim-time-limit = " + alohaSimTime + "\n"} {
				if !strings.Contains(ini, from) {
					t.Fatalf("examples/aloha/omnetpp.ini has no %q", from)
				}
				ini = strings.Replace(ini, from, to, 1)
			}
			data = []byte(ini)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	run("make", "-j2")
	infos, err := oppcli.ParseRuns(run("./aloha", "-u", "Cmdenv", "-c", "PureAloha", "-q", "runs"))
	if err != nil {
		t.Fatal(err)
	}
	run("./aloha", "-u", "Cmdenv", "-c", "PureAloha")

	// Each run's throughput, by its run number.
	value := map[int]float64{}
	scas, _ := filepath.Glob(filepath.Join(dir, "results", "*.sca"))
	for _, p := range scas {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sf, err := scafile.Parse(f, scafile.Limits{})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sf.Runs {
			rn, _ := scafile.Attr(r.Attrs, "runnumber")
			n, err := strconv.Atoi(rn)
			if err != nil {
				t.Fatalf("%s: runnumber %q", p, rn)
			}
			for _, s := range r.Scalars {
				if s.Module+"."+s.Name == alohaScalar {
					value[n] = s.Value
				}
			}
		}
	}
	nums := make([]int, len(infos))
	vars := map[int]string{}
	for i, ri := range infos {
		nums[i], vars[ri.Number] = ri.Number, ri.Vars
	}
	runs, points := stopRuns(nums, vars)
	if len(runs) != 15*alohaRepeat || len(points) != 15 || len(value) != len(runs) {
		t.Fatalf("%d runs of %d points, %d values: want %d runs of 15 points", len(runs), len(points), len(value), 15*alohaRepeat)
	}

	const slots = 4
	saved5 := 0
	for _, prec := range []float64{0.05, 0.02, 0.01} {
		o := StopObservation{Rule: api.StopRule{Scalar: alohaScalar, Confidence: 0.95, RelativeHalfWidth: prec, MinRepetitions: 3},
			Points: points, Runs: append([]StopRun(nil), runs...), MaxAttempts: 1}
		for i := range o.Runs {
			o.Runs[i].State = schema.RunPending
		}
		at := map[int]int{} // run number -> index
		for i, r := range o.Runs {
			at[r.Run] = i
		}
		for round := 0; ; round++ {
			if round > len(o.Runs) {
				t.Fatal("the rule's play does not end")
			}
			p := decideStop(o, slots)
			for _, sk := range p.Skip {
				o.Runs[at[sk.Run]].State = schema.RunSkipped
			}
			live := 0
			for _, r := range o.Runs {
				if r.Live {
					live++
				}
			}
			for _, it := range p.Order {
				if live >= slots {
					break
				}
				o.Runs[at[it.Run]].Live = true
				live++
			}
			if live == 0 {
				break
			}
			for i := range o.Runs { // the round's runs finish
				if r := &o.Runs[i]; r.Live {
					r.Live, r.State, r.Value, r.HasValue, r.Indexed = false, schema.RunSucceeded, value[r.Run], true, true
				}
			}
		}
		ran, skipped, converged := 0, 0, 0
		byPoint := make([][]float64, len(points))
		skips := make([]int, len(points))
		for _, r := range o.Runs {
			switch r.State {
			case schema.RunSucceeded:
				ran++
				byPoint[r.Point] = append(byPoint[r.Point], r.Value)
			case schema.RunSkipped:
				skipped++
				skips[r.Point]++
			default:
				t.Fatalf("run %d ended %s", r.Run, r.State)
			}
		}
		for p := range points {
			mean, _, half := resulttable.Interval(append([]float64(nil), byPoint[p]...), 0.95)
			switch {
			case skips[p] > 0:
				converged++
				if len(byPoint[p]) < 3 || !(half <= prec*math.Abs(mean)) {
					t.Errorf("±%g%%: point %s stopped after %d runs at %.4g ± %.3g", 100*prec, points[p], len(byPoint[p]), mean, half)
				}
			case len(byPoint[p]) != alohaRepeat:
				t.Errorf("±%g%%: point %s did not converge but ran %d runs", 100*prec, points[p], len(byPoint[p]))
			}
		}
		total := len(o.Runs)
		msg := fmt.Sprintf("PureAloha, %d points x %d repetitions = %d runs, %s within ±%g%% at 95%%, min 3 repetitions, %d slots: %d runs (%.0f%% saved), %d of %d points converged",
			len(points), alohaRepeat, total, alohaScalar, 100*prec, slots, ran, 100*float64(skipped)/float64(total), converged, len(points))
		t.Log(msg)
		fmt.Println(msg)
		if prec == 0.05 {
			saved5 = skipped
		}
	}
	if saved5 == 0 {
		t.Fatal("the rule saved no run at ±5%")
	}
}
