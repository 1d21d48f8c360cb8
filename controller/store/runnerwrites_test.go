package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
)

// runnerWrites stores, from writers goroutines at once, the outcome
// Succeeded of runs 0..n-1 of campaign/uid (records already created) as
// the runners' group commits do: 16 records at a time, in commands of
// schema.UpdatesPerCommand, each with 30 s to land. The returned check waits for them and fails t unless every
// write landed and all n runs count as succeeded.
func runnerWrites(ctx context.Context, s *Store, campaign, uid string, n, writers int) (check func(t *testing.T)) {
	runs := s.DB.Collection(collRuns)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := w * 16; b < n; b += writers * 16 {
				var models []mongo.WriteModel
				for i := b; i < min(b+16, n); i++ {
					models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": RunID(campaign, uid, i)}).
						SetUpdate(bson.M{"$set": bson.M{"state": schema.RunSucceeded}}))
				}
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := schema.UpdateInCommands(wctx, runs, models)
				cancel()
				if err != nil {
					errs[w] = fmt.Errorf("runner write of runs %d..: %w", b, err)
					return
				}
			}
		}()
	}
	return func(t *testing.T) {
		t.Helper()
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		c, err := s.RunCounts(ctx, campaign, uid)
		if err != nil || c.Succeeded != int64(n) {
			t.Fatalf("the runners' writes: %+v, %v; want %d succeeded", c, err, n)
		}
	}
}
