package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/schema"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestListingRunsWithManyFilesStaysUnderTheMessageLimit: 100 run records
// of 3,000 result files each (about 600 KB a record, 60 MB in all) are
// listed in one page. A reply that held them all would pass the 48 MB wire
// message limit (FerretDB sends a cursor's first batch whole).
func TestListingRunsWithManyFilesStaysUnderTheMessageLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 60 MB of run records")
	}
	s := open(t)
	ctx := context.Background()
	const runs, files = 100, 3000
	nums := make([]int, runs)
	for i := range nums {
		nums[i] = i
	}
	if _, err := s.CreateRuns(ctx, "big", "u1", nums); err != nil {
		t.Fatal(err)
	}
	fs := make([]schema.ResultFile, files)
	for i := range fs {
		fs[i] = schema.ResultFile{Name: fmt.Sprintf("results/PureAloha-numHosts=%d,iaMean=1-#%d.vec", i, i),
			Size: 123456, SHA256: strings.Repeat("ab", 32), FileID: bson.NewObjectID()}
	}
	// Storing 60 MB of records outlasted the client's 60 s operation
	// timeout on FerretDB under load (one statement per record is far worse:
	// each scans every record); a deadline of its own takes precedence.
	uctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := s.DB.Collection(collRuns).UpdateMany(uctx, bson.M{"campaign": "big"}, bson.M{"$set": bson.M{"files": fs}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Runs(ctx, RunQuery{Campaign: "big", UID: "u1", After: -1, Limit: 1000})
	if err != nil {
		t.Fatalf("list runs: %v", err)
	}
	if len(got) != runs || len(got[runs-1].Files) != files {
		t.Fatalf("listed %d runs (last with %d files), want %d with %d", len(got), len(got[len(got)-1].Files), runs, files)
	}
}
