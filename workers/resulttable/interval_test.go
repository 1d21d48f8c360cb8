package resulttable

import (
	"math"
	"testing"

	"github.com/simswarm/simswarm/workers/resultindex"
)

// TestIntervalIsTheTablesStatistics: a stop rule decides on the numbers
// results table shows, at 0.95 bit for bit; other levels follow Student's t.
func TestIntervalIsTheTablesStatistics(t *testing.T) {
	vs := []float64{0.31, 0.29, 0.35, 0.27, 0.33, 0.30}
	b := NewBuilder(nil)
	for i, v := range vs {
		b.AddRun([]resultindex.KV{kv("x", "1"), kv("repetition", string(rune('0'+i)))}, []resultindex.Value{val("M", "s", v)})
	}
	row := b.Table().Rows[0]
	mean, sd, half := Interval(append([]float64(nil), vs...), 0.95)
	if mean != float64(row.Mean) || sd != float64(row.StdDev) || half != float64(row.CI95) {
		t.Fatalf("Interval = %v %v %v, table row %v %v %v", mean, sd, half, row.Mean, row.StdDev, row.CI95)
	}
	// t quantiles of 5 degrees of freedom: 0.90 -> 2.015048, 0.99 -> 4.032143.
	for conf, tq := range map[float64]float64{0.90: 2.015048, 0.99: 4.032143} {
		_, _, h := Interval(append([]float64(nil), vs...), conf)
		if want := tq * sd / math.Sqrt(6); math.Abs(h-want) > 1e-6*want {
			t.Errorf("half-width at %v = %v, want %v", conf, h, want)
		}
	}
	if _, _, h := Interval([]float64{1}, 0.9); !math.IsNaN(h) {
		t.Errorf("half-width of one value = %v, want NaN", h)
	}
	if m, _, h := Interval([]float64{1, math.NaN(), 2}, 0.9); !math.IsNaN(m) || !math.IsNaN(h) {
		t.Errorf("with a NaN: mean %v, half %v, want NaN", m, h)
	}
}
