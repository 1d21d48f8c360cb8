package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/runlist"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Errors callers branch on.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrConflict      = errors.New("conflict: the object has been modified; get it again and retry")
	ErrFenced        = errors.New("fenced: a newer leader epoch has written this object")
)

// Collection and bucket names (shared with workers, see api/schema).
const (
	collCampaigns = "campaigns"
	collRuns      = "runs"
	collBuilds    = "builds"
	collLeases    = "leases"
	bucketSources = "sources"
)

// Store is the controller's persistent state.
type Store struct {
	Client *mongo.Client
	DB     *mongo.Database
	now    func() time.Time
	// campaignWrites serialises this process's writes of campaign
	// documents. FerretDB's SQLite backend applies an update by rewriting
	// the whole document, so two concurrent updates of one campaign (the
	// API marking it deleted, the reconciler writing its status) could
	// lose one of them: under load a delete answered 202 and the mark was
	// gone a moment later. The API and the reconciler of a controller
	// share one Store.
	campaignWrites sync.Mutex
}

// DatabaseName returns the database named by the path of a mongodb:// URI,
// "simswarm" when it names none.
func DatabaseName(uri string) string { return schema.DatabaseName(uri) }

// Open connects to uri, checks the connection and ensures the indexes.
func Open(ctx context.Context, uri string) (*Store, error) {
	client, db, err := schema.Connect(ctx, uri)
	if err != nil {
		return nil, err
	}
	s := &Store{Client: client, DB: db, now: time.Now}
	if err := s.EnsureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return s, nil
}

// Close disconnects.
func (s *Store) Close(ctx context.Context) error { return s.Client.Disconnect(ctx) }

// EnsureIndexes creates the indexes the queries need. It creates only the
// missing ones (FerretDB 1.24 fails on re-creating an existing compound
// index), so it is idempotent everywhere.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	type collIndexes struct {
		coll string
		want []mongo.IndexModel
	}
	all := []collIndexes{
		{collRuns, []mongo.IndexModel{
			{Keys: bson.D{{Key: "campaign", Value: 1}, {Key: "uid", Value: 1}, {Key: "state", Value: 1}, {Key: "run", Value: 1}},
				Options: options.Index().SetName("campaign_uid_state_run")},
			{Keys: bson.D{{Key: "campaign", Value: 1}, {Key: "uid", Value: 1}, {Key: "run", Value: 1}},
				Options: options.Index().SetName("campaign_uid_run")},
			{Keys: bson.D{{Key: "state", Value: 1}}, Options: options.Index().SetName("state")},
			// Runs to reuse are found by identity (ReusableRuns).
			{Keys: bson.D{{Key: "identity", Value: 1}}, Options: options.Index().SetName("identity")},
		}},
		// A result set's completions are listed (KeptResults, in _id order)
		// and pruned (PruneBatch) by uid.
		{schema.CollCompletions, []mongo.IndexModel{
			{Keys: bson.D{{Key: "uid", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("uid_id")},
		}},
		{resultindex.Collection, resultindex.Indexes()},
		{resultindex.SegmentCollection, resultindex.SegmentIndexes()},
		{resultindex.SmallSegmentCollection, resultindex.SegmentIndexes()},
	}
	// Runners, builders and the source upload write GridFS documents
	// themselves (workers/gridfs), so each bucket's indexes (what the
	// driver's upload stream would create, under the same names) are made
	// here; reading a file's chunks in order needs files_id_1_n_1.
	for _, bucket := range []string{schema.BucketResults, schema.BucketArtifacts, bucketSources, runlist.Bucket} {
		all = append(all,
			collIndexes{bucket + ".files", []mongo.IndexModel{
				{Keys: bson.D{{Key: "filename", Value: 1}, {Key: "uploadDate", Value: 1}},
					Options: options.Index().SetName("filename_1_uploadDate_1")},
			}},
			collIndexes{bucket + ".chunks", []mongo.IndexModel{
				{Keys: bson.D{{Key: "files_id", Value: 1}, {Key: "n", Value: 1}},
					Options: options.Index().SetName("files_id_1_n_1").SetUnique(true)},
			}})
	}
	for _, ci := range all {
		if err := ensureIndexes(ctx, s.DB.Collection(ci.coll), ci.want); err != nil {
			return err
		}
	}
	return nil
}

func ensureIndexes(ctx context.Context, coll *mongo.Collection, want []mongo.IndexModel) error {
	have := map[string]bool{}
	if cur, err := coll.Indexes().List(ctx); err == nil {
		var specs []struct {
			Name string `bson:"name"`
		}
		if err := cur.All(ctx, &specs); err == nil {
			for _, sp := range specs {
				have[sp.Name] = true
			}
		}
	}
	for _, m := range want {
		// Names are set above; read back through the options builder.
		var o options.IndexOptions
		for _, f := range m.Options.List() {
			_ = f(&o)
		}
		if o.Name != nil && have[*o.Name] {
			continue
		}
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create index %s on %s: %w", *o.Name, coll.Name(), err)
		}
	}
	return nil
}

// ClaimEpoch records epoch as the newest leader epoch; it fails with
// ErrFenced when a higher one was already recorded.
func (s *Store) ClaimEpoch(ctx context.Context, epoch int64) error {
	c := s.DB.Collection(collLeases)
	res, err := c.UpdateOne(ctx, bson.M{"_id": "controller", "epoch": bson.M{"$lt": epoch}},
		bson.M{"$set": bson.M{"epoch": epoch, "claimedAt": s.now()}})
	if err != nil {
		return fmt.Errorf("claim epoch %d: %w", epoch, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	_, err = c.InsertOne(ctx, bson.M{"_id": "controller", "epoch": epoch, "claimedAt": s.now()})
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("claim epoch %d: %w", epoch, ErrFenced)
	}
	if err != nil {
		return fmt.Errorf("claim epoch %d: %w", epoch, err)
	}
	return nil
}

// MaxEpoch is the highest leader epoch recorded (0 if none).
func (s *Store) MaxEpoch(ctx context.Context) (int64, error) {
	var doc struct {
		Epoch int64 `bson:"epoch"`
	}
	err := s.DB.Collection(collLeases).FindOne(ctx, bson.M{"_id": "controller"}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read epoch: %w", err)
	}
	return doc.Epoch, nil
}
