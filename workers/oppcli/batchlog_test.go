package oppcli

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// chattyBatch is what a Cmdenv process running 5 runs of 2,000 printed
// lines each writes (0.8 MB).
func chattyBatch() []byte {
	var out strings.Builder
	for r := range 5 {
		fmt.Fprintf(&out, "PureAlohaExperiment run %d: $numHosts=10, $iaMean=1, $repetition=%d\n", r, r)
		for e := range 2000 {
			fmt.Fprintf(&out, "** Event #%d   t=%d.5   Elapsed: 0.0%ds (0m 00s)  0%% completed  (0%% total)\n", e*100, e, e%10)
		}
	}
	return []byte(out.String())
}

// follow feeds data to a new BatchLog 32 KiB at a time, as os/exec copies
// a pipe.
func follow(t testing.TB, data []byte) {
	l := NewBatchLog("PureAlohaExperiment", []int{0, 1, 2, 3, 4})
	for p := data; len(p) > 0; {
		k := min(len(p), 32<<10)
		_, _ = l.Write(p[:k])
		p = p[k:]
	}
	if len(l.started) != 5 {
		t.Fatalf("started %v, want 5 runs", l.started)
	}
}

// Following a program's output costs about its size: looking for each
// line's end in a string conversion of the rest of the buffer allocated
// 175 MB for 0.8 MB of output.
func TestBatchLogFollowsOutputInItsSize(t *testing.T) {
	data := chattyBatch()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	follow(t, data)
	runtime.ReadMemStats(&m1)
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 8*uint64(len(data)) {
		t.Errorf("following %d bytes of output allocated %d bytes", len(data), got)
	}
}

// BenchmarkBatchLogWrite is what a runall or runner process spends
// following a chatty program's output.
func BenchmarkBatchLogWrite(b *testing.B) {
	data := chattyBatch()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		follow(b, data)
	}
}
