package resultbackfill

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// On the real store: a campaign whose Succeeded runs were stored without
// an index (files in GridFS, completions, records) has them all in its
// index after a pass of the backfiller the controller runs, each once,
// their itervars and values from their .sca; the next pass asks nothing.
func TestPassIndexesACampaignStoredWithoutIndex(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	c, err := st.Create(ctx, &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: "aloha"},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Archive: "abc"},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAlohaExperiment", Runs: "0..2"}}})
	if err != nil {
		t.Fatal(err)
	}
	sca, err := os.ReadFile("../../workers/scafile/testdata/aloha.sca")
	if err != nil {
		t.Fatal(err)
	}
	uid := c.Metadata.UID
	bucket := st.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	for run := range 3 {
		data := bytes.Replace(sca, []byte("itervar iaMean 1\n"), []byte("itervar iaMean "+string(rune('1'+run))+"\n"), 1)
		fid, err := bucket.UploadFromStream(ctx, schema.ResultName("aloha", uid, run, "results/a.sca"), bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		id := schema.RunID("aloha", uid, run)
		if _, err := st.DB.Collection(schema.CollCompletions).InsertOne(ctx, schema.Completion{ID: id, Campaign: "aloha", UID: uid, Attempt: 1,
			Files: []schema.ResultFile{{Name: "results/a.sca", Size: int64(len(data)), FileID: fid}}, FinishedAt: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB.Collection(schema.CollRuns).InsertOne(ctx, bson.M{"_id": id, "campaign": "aloha", "uid": uid, "run": run,
			"state": schema.RunSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.UpdateStatus(ctx, "aloha", uid, api.CampaignStatus{Phase: api.PhaseSucceeded, Runs: api.RunCounts{Total: 3, Succeeded: 3}}, 1); err != nil {
		t.Fatal(err)
	}
	b := &Backfiller{Store: st}
	if n, err := b.Pass(ctx); err != nil || n != 3 {
		t.Fatalf("first pass indexed %d runs: %v", n, err)
	}
	iaMeans := map[string]int{}
	if err := st.ScanResultIndex(ctx, uid, nil, func(d *resultindex.Doc) error {
		for _, kv := range d.Itervars {
			if kv.Name == "iaMean" {
				iaMeans[kv.Value]++
			}
		}
		if d.Error != "" || len(d.Values) < 20 || d.Campaign != "aloha" {
			t.Errorf("run %d: %+v", d.Run, d)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(iaMeans) != 3 || iaMeans["1"] != 1 || iaMeans["3"] != 1 {
		t.Errorf("iaMean of the indexed runs: %v", iaMeans)
	}
	if n, err := b.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("second pass indexed %d runs: %v", n, err)
	}
}
