package resultindex

import (
	"math"
	"slices"
	"sort"
	"testing"
)

func segmentDocs() []*Doc {
	return []*Doc{
		{Run: 3, Attempt: 2, Config: "C", Repetition: "1", Itervars: []KV{{"n", "10"}, {"repetition", "1"}},
			Values: Values{{"Net.a", "x", 1.5}, {"Net.a", "x", 2.5}, {"Net.b", "y:mean", math.Inf(-1)}, {"", "e", math.NaN()}}},
		{Run: 7, Attempt: 1, Error: "b.sca: line 4: bad", Skipped: 2, Itervars: []KV{}, Values: Values{}},
		{Run: 1 << 30, Attempt: 1, Itervars: []KV{{"n", "ünï"}}, Values: Values{{"Net.b", "y:mean", -0.0}, {"Net.a", "x", 1e-300}}},
	}
}

// sortedValues orders a run's values (a segment keeps them by column).
func sortedValues(vs Values) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Module+"\x00"+v.Name+"\x00"+string(rune(0))+formatBits(v.Value))
	}
	sort.Strings(out)
	return out
}

func formatBits(f float64) string {
	b := math.Float64bits(f)
	return string([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24), byte(b >> 32), byte(b >> 40), byte(b >> 48), byte(b >> 56)})
}

// A segment gives back every run with its fields and exactly its values
// (bit for bit, duplicates and NaN included); a keep function selects
// columns and Indexed still counts them all.
func TestSegmentRoundTrip(t *testing.T) {
	in := segmentDocs()
	out, err := decodeSegment(encodeSegment(in), "c", "u", nil)
	if err != nil || len(out) != len(in) {
		t.Fatalf("decode: %d docs, %v", len(out), err)
	}
	for i, d := range out {
		w := in[i]
		if d.ID != runID("c", "u", w.Run) || d.Campaign != "c" || d.UID != "u" || d.Run != w.Run || d.Attempt != w.Attempt ||
			d.Config != w.Config || d.Repetition != w.Repetition || d.Error != w.Error || d.Skipped != w.Skipped ||
			!slices.Equal(d.Itervars, w.Itervars) || d.Indexed != len(w.Values) {
			t.Errorf("run %d: %+v, want %+v", w.Run, d, w)
		}
		if !slices.Equal(sortedValues(d.Values), sortedValues(w.Values)) {
			t.Errorf("run %d values %v, want %v", w.Run, d.Values, w.Values)
		}
	}
	asked := 0
	out, err = decodeSegment(encodeSegment(in), "c", "u", func(m, n string) bool { asked++; return m == "Net.a" })
	if err != nil || asked != 3 || len(out[0].Values) != 2 || out[0].Indexed != 4 || len(out[2].Values) != 1 || out[2].Values[0].Value != 1e-300 {
		t.Fatalf("keep Net.a: asked %d, %v, %v", asked, out, err)
	}
}

// A damaged segment is an error, never a panic or a huge allocation.
func TestSegmentMalformed(t *testing.T) {
	good := encodeSegment(segmentDocs())
	for n := range len(good) {
		if _, err := decodeSegment(good[:n], "c", "u", nil); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	for i := range good {
		for _, x := range []byte{0xff, 0x00, 0x80} {
			b := slices.Clone(good)
			b[i] ^= x
			_, _ = decodeSegment(b, "c", "u", nil) // must not panic
		}
	}
	if _, err := decodeSegment(append(slices.Clone(good), 0), "c", "u", nil); err == nil {
		t.Error("trailing byte: no error")
	}
	if _, err := decodeSegment([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, "c", "u", nil); err == nil {
		t.Error("a count beyond the data: no error")
	}
}

func FuzzSegmentDecode(f *testing.F) {
	f.Add(encodeSegment(segmentDocs()))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeSegment(b, "c", "u", nil)
	})
}
