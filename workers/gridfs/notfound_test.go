package gridfs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/workers/gridfs"
)

// TestMissingFileIsErrFileNotFoundOnFerretDB: the project tells a missing
// GridFS file from a failure by mongo.ErrFileNotFound alone, never by the
// text of an error, so it must come back from FerretDB as from MongoDB -
// for a read by id or by name, and for the driver's Delete, which the
// builder, the runner and the run lists call to drop files another
// process may have dropped first.
func TestMissingFileIsErrFileNotFoundOnFerretDB(t *testing.T) {
	ctx := context.Background()
	db := connect(t)
	up, err := gridfs.Upload(ctx, db, "nf", "present", strings.NewReader("data"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := db.GridFSBucket(options.GridFSBucket().SetName("nf"))
	if err := b.Delete(ctx, up.ID); err != nil {
		t.Fatalf("delete a stored file: %v", err)
	}
	for what, err := range map[string]error{
		"delete it again":                b.Delete(ctx, up.ID),
		"delete an id never stored":      b.Delete(ctx, bson.NewObjectID()),
		"open it by id":                  func() error { _, err := gridfs.OpenByID(ctx, db, "nf", up.ID); return err }(),
		"open it by name":                func() error { _, err := gridfs.OpenByName(ctx, db, "nf", "present"); return err }(),
		"open in a bucket never written": func() error { _, err := gridfs.OpenByID(ctx, db, "nothing", up.ID); return err }(),
	} {
		if !errors.Is(err, mongo.ErrFileNotFound) {
			t.Errorf("%s: %v, want mongo.ErrFileNotFound", what, err)
		}
	}
}
