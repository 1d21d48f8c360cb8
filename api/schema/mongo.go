package schema

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
)

// RunID is the _id of a run record.
func RunID(campaign, uid string, run int) string { return fmt.Sprintf("%s/%s/%d", campaign, uid, run) }

// ResultName is the GridFS file name of a run's result file.
func ResultName(campaign, uid string, run int, name string) string {
	return RunID(campaign, uid, run) + "/" + name
}

// ArtifactName is the GridFS file name of the artifact of build key.
func ArtifactName(key string) string { return key + ".tar.gz" }

// SourceName is the GridFS file name of the source archive with digest sha.
func SourceName(sha string) string { return sha + ".tar.gz" }

// DistccHostsKey is the Redis key holding the distcc host list (space
// separated, DISTCC_HOSTS syntax) that the stack reconciler publishes
// (controller/stack) and the builder reads before every build.
const DistccHostsKey = "simswarm:distcc:hosts"

// RunnerSlotsKey is the Redis hash of each node's runner slot count (field:
// the swarm node ID, value: a decimal count) that the stack reconciler
// publishes and the runner of that node (started with its node ID) reads.
const RunnerSlotsKey = "simswarm:runners:slots"

// ParseNodeSlots reads a node's count under RunnerSlotsKey: a decimal
// from 0 to api.MaxNodeSlots (the stack publishes no more; a larger value
// is not one it published).
func ParseNodeSlots(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > api.MaxNodeSlots {
		return 0, fmt.Errorf("slot count %q is not a number of slots from 0 to %d", v, api.MaxNodeSlots)
	}
	return n, nil
}

// DBWritersKey is the Redis sorted set of the runners writing to the
// database at once (workers/dbgate): a group commit holds a place while it
// writes, so that many runners storing at once cannot exhaust FerretDB.
const DBWritersKey = "simswarm:db:writers"

// ChangesChannel is the Redis pub/sub channel on which a campaign's name
// is announced when something about it changed outside the leading
// controller: an API write on a standby, a run or build a worker finished.
// The controller reconciles the campaign at once instead of at its next
// resync, which keeps the bounded run window full.
const ChangesChannel = "simswarm:campaigns:changed"

// DatabaseName returns the database named by the path of a mongodb:// URI,
// "simswarm" when it names none.
func DatabaseName(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "simswarm"
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		return db
	}
	return "simswarm"
}

// Connect opens the database of a mongodb:// URI and checks that it answers.
// The driver reconnects by itself after an outage.
func Connect(ctx context.Context, uri string) (*mongo.Client, *mongo.Database, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(10 * time.Second).SetTimeout(60 * time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connect mongo: %w", err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, nil, fmt.Errorf("ping mongo: %w", err)
	}
	return client, client.Database(DatabaseName(uri)), nil
}
