package dashboard

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
)

func TestWithoutAtIgnoresOnlyTheViewsFinalTime(t *testing.T) {
	mk := func(n int, at time.Time) []byte {
		b, _ := json.Marshal(&Overview{Campaigns: []CampaignSummary{}, Totals: api.RunCounts{Total: int64(n)}, At: at})
		return b
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b, c := mk(1, t0), mk(1, t0.Add(2*time.Second)), mk(2, t0)
	if string(withoutAt(a)) != string(withoutAt(b)) {
		t.Errorf("views differing only in their time count as changed:\n%s\n%s", a, b)
	}
	if string(withoutAt(a)) == string(withoutAt(c)) {
		t.Error("a changed count was not seen")
	}
	for _, odd := range []string{`{}`, `{"x":1}`, `{"at":"x"}`, `{"a":{"at":"x"},"b":1}`, ``} {
		if got := string(withoutAt([]byte(odd))); got != odd {
			t.Errorf("withoutAt(%s) = %s, want it unchanged", odd, got)
		}
	}
}
