package resultbackfill

import (
	"context"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/store"
)

// fakeStore has campaigns with runs to index (missing) and runs too young.
type fakeStore struct {
	cs      []*api.Campaign
	missing map[string]int
	young   map[string]int
	calls   map[string]int
}

func (f *fakeStore) List(context.Context) ([]*api.Campaign, error) { return f.cs, nil }

func (f *fakeStore) BackfillResultIndex(_ context.Context, _, uid string, o store.BackfillOptions) (store.Backfilled, error) {
	f.calls[uid]++
	n := min(f.missing[uid], o.Limit)
	f.missing[uid] -= n
	return store.Backfilled{Indexed: n, Remaining: f.missing[uid], Young: f.young[uid]}, nil
}

func camp(name string, succeeded int64) *api.Campaign {
	c := &api.Campaign{}
	c.Metadata.Name, c.Metadata.UID = name, name+"-uid"
	c.Status.Runs.Succeeded = succeeded
	return c
}

// A pass indexes at most Limit runs over all campaigns; a campaign found
// complete is not asked again until its Succeeded count changes; one with
// runs its runners are indexing is asked again after Recheck only; one
// with no Succeeded run is never asked.
func TestPassesAreBoundedAndSkipCompleteCampaigns(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	f := &fakeStore{cs: []*api.Campaign{camp("a", 700), camp("b", 10), camp("c", 0), camp("d", 50)},
		missing: map[string]int{"a-uid": 700, "b-uid": 10, "d-uid": 0}, young: map[string]int{"d-uid": 3}, calls: map[string]int{}}
	b := &Backfiller{Store: f, Limit: 500, Recheck: 10 * time.Minute, Now: func() time.Time { return now }}
	var per []int
	for range 4 {
		n, err := b.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n > 500 {
			t.Fatalf("a pass indexed %d runs, limit 500", n)
		}
		per = append(per, n)
		now = now.Add(time.Minute)
	}
	if per[0]+per[1]+per[2]+per[3] != 710 || per[0] != 500 || per[3] != 0 {
		t.Errorf("runs indexed per pass %v, want 500 first and 710 in all", per)
	}
	if f.calls["c-uid"] != 0 || f.calls["d-uid"] != 1 || f.calls["b-uid"] > 2 {
		t.Errorf("calls %v: c has nothing, d is rechecked after 10 min only, b once complete", f.calls)
	}
	callsA := f.calls["a-uid"]
	f.cs[0].Status.Runs.Succeeded = 701
	f.missing["a-uid"] = 1
	now = now.Add(10 * time.Minute)
	if n, _ := b.Pass(context.Background()); n != 1 || f.calls["a-uid"] != callsA+1 || f.calls["d-uid"] != 2 {
		t.Errorf("after a's Succeeded changed and Recheck passed: %d indexed, calls %v", n, f.calls)
	}
}
