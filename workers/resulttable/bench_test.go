package resulttable

import (
	"strconv"
	"testing"

	"github.com/simswarm/simswarm/workers/resultindex"
)

// BenchmarkTable100kRuns: a table of 100,000 aloha-shaped runs (18 points
// of two variables, 21 values each, as the result index holds them), of
// one scalar and of all of them. The aim: under a second.
func BenchmarkTable100kRuns(b *testing.B) {
	const runs = 100_000
	type run struct {
		vars []resultindex.KV
		vals []resultindex.Value
	}
	all := make([]run, runs)
	for i := range all {
		p := i % 18
		vars := []resultindex.KV{kv("iaMean", strconv.Itoa(1+p%6)), kv("numHosts", strconv.Itoa(10+5*(p/6))), kv("repetition", strconv.Itoa(i/18))}
		vals := make([]resultindex.Value, 0, 21)
		for _, n := range []string{"duration", "collisionLength:mean", "collisionLength:sum", "collisionLength:max", "collidedFrames:last", "channelUtilization:last", "receivedFrames:last"} {
			vals = append(vals, val("Aloha.server", n, float64(i%97)/97))
		}
		for _, st := range []string{"collisionLength:histogram", "collisionMultiplicity:histogram"} {
			for _, f := range []string{"count", "mean", "stddev", "min", "max", "sum", "sqrsum"} {
				vals = append(vals, val("Aloha.server", st+":"+f, float64(i%89)))
			}
		}
		all[i] = run{vars, vals}
	}
	for _, c := range []struct {
		name     string
		patterns []string
		rows     int
	}{{"one-scalar", []string{"Aloha.server.channelUtilization:last"}, 18}, {"all-values", nil, 18 * 21}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				f, err := NewFilter(c.patterns)
				if err != nil {
					b.Fatal(err)
				}
				bl := NewBuilder(f)
				for _, r := range all {
					bl.AddRun(r.vars, r.vals)
				}
				if t := bl.Table(); len(t.Rows) != c.rows || t.Rows[0].N < runs/18 || t.Rows[0].N > runs/18+1 {
					b.Fatalf("%d rows, n %d", len(t.Rows), t.Rows[0].N)
				}
			}
		})
	}
}
