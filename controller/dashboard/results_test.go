package dashboard_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// The Results view reads the same from run documents and from the
// segments they are compacted into (its first read of 600 runs compacts
// them): the same names, series and numbers; every x value of a series
// with its repetitions' mean.
func TestResultsViewSameAfterCompaction(t *testing.T) {
	e := newEnv(t, func(c *dashboard.Config) { c.Results = c.Runs.(*store.Store) })
	c := e.campaign(t, "big", 600, api.CampaignStatus{})
	ctx := context.Background()
	var docs []any
	for i := range 600 {
		n, ia := 10*(1+i%3), 1+i/3%4 // 12 points, 50 repetitions
		docs = append(docs, &resultindex.Doc{ID: schema.RunID("big", c.Metadata.UID, i), Campaign: "big", UID: c.Metadata.UID, Run: i, Attempt: 1,
			Itervars: []resultindex.KV{{Name: "numHosts", Value: strconv.Itoa(n)}, {Name: "iaMean", Value: strconv.Itoa(ia)}},
			Values: resultindex.Values{{Module: "Net.server", Name: "util", Value: float64(n*ia) + float64(i/12%2)},
				{Module: "Net.host[" + strconv.Itoa(i%5) + "]", Name: "sent", Value: float64(i)}}})
	}
	if _, err := e.st.DB.Collection(resultindex.Collection).InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	e.login(t, cl)
	read := func() (dashboard.ResultsPage, string) {
		var p dashboard.ResultsPage
		getJSON(t, cl, e.srv.URL+"/ui/api/campaigns/big/results?scalar=Net.server.util&x=iaMean", &p)
		b, _ := json.Marshal([]any{p.Scalars, p.Vars, p.X, p.SeriesVar, p.Series, p.Runs, p.Problems})
		return p, string(b)
	}
	p, before := read()
	if p.Runs != 600 || p.X != "iaMean" || p.SeriesVar != "numHosts" || len(p.Series) != 3 || len(p.Scalars) != 6 ||
		!slices.Contains(p.Scalars, "Net.host[4].sent") {
		t.Fatalf("first view: %s", before)
	}
	for _, s := range p.Series {
		n, _ := strconv.Atoi(s.Label[len("numHosts="):])
		for _, pt := range s.Points {
			ia, _ := strconv.Atoi(pt.X)
			if pt.N != 50 || float64(pt.Mean) != float64(n*ia)+0.5 {
				t.Errorf("%s iaMean=%s: n %d mean %v, want 50 and %v", s.Label, pt.X, pt.N, pt.Mean, float64(n*ia)+0.5)
			}
		}
	}
	if n, _ := e.st.DB.Collection(resultindex.Collection).CountDocuments(ctx, bson.M{"uid": c.Metadata.UID}); n != 0 {
		t.Fatal("the first read did not compact the 600 run documents")
	}
	time.Sleep(300 * time.Millisecond) // past the view's reuse
	if _, after := read(); after != before {
		t.Errorf("the view changed with compaction:\n%s\nwas\n%s", after, before)
	}
}
