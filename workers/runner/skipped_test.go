package runner

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api/schema"
)

// TestStaleFailureLeavesASkippedRunSkipped: a run a stop rule skipped is
// final; a stale task of it that fails does not make it Failed (which
// would fail a campaign that has every result it needs).
func TestStaleFailureLeavesASkippedRunSkipped(t *testing.T) {
	db := setup(t, "[General]\n**.mode = ${mode=crash}\n")
	ctx := context.Background()
	tk := task(t, db, 0)
	if _, err := db.Collection(schema.CollRuns).UpdateOne(ctx, bson.M{"_id": schema.RunID("c", "u1", 0)},
		bson.M{"$set": bson.M{"state": schema.RunSkipped, "message": "not needed"}}); err != nil {
		t.Fatal(err)
	}
	if err := handler(t, db, t.TempDir()).ProcessTask(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if r := record(t, db, 0); r.State != schema.RunSkipped || r.Message != "not needed" {
		t.Fatalf("a stale attempt's failure wrote over the Skipped record: %+v", r)
	}
}
