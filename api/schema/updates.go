package schema

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// UpdatesPerCommand bounds the statements of one update command.
// FerretDB 1.24 keeps each statement's query open, and with it one of its
// 100 SQLite connections, until the whole command ends, and each
// statement's write takes one more: concurrent commands of many statements
// came to hold every connection, each waiting for one more, and FerretDB
// answered nothing again (a goroutine dump of it wedged under
// workers/runner's TestManyRunnersStoringAtOnceKeepFerretDBAnswering:
// eight commands of the runners' 16-record updates held all 100). With the
// eight writers the database gate lets in (workers/dbgate) and the
// controller, four statements a command hold at most 45.
const UpdatesPerCommand = 4

// UpdateInCommands applies models, which must be idempotent (a $set), in
// commands of at most UpdatesPerCommand. It returns nil; or a
// mongo.BulkWriteException whose write errors index models, a refused
// statement failing only itself; or, if a command failed as a whole, that
// command's error, after which the models of that command and the ones
// after it may or may not have been applied.
//
// FerretDB 1.24 ignores an unordered command's order: it stops at the
// first refused statement and names it index 0. So a command with a
// refusal is applied again one statement at a time, which tells each
// statement's outcome. A command that failed for a passing reason
// (transient) is sent again, after retryWaits.
func UpdateInCommands(ctx context.Context, coll *mongo.Collection, models []mongo.WriteModel) error {
	var refused []mongo.BulkWriteError
	// note keeps a refusal of the statement at index i and returns any
	// other error.
	note := func(i int, err error) error {
		if r := (refusal{}); errors.As(err, &r) {
			r.we.Index = i
			refused = append(refused, r.we)
			return nil
		}
		return err
	}
	for off := 0; off < len(models); off += UpdatesPerCommand {
		cmd := models[off:min(off+UpdatesPerCommand, len(models))]
		err := updateCommand(ctx, coll, cmd)
		if errors.As(err, new(refusal)) && len(cmd) > 1 {
			for i := range cmd {
				if err := note(off+i, updateCommand(ctx, coll, cmd[i:i+1])); err != nil {
					return err
				}
			}
			continue
		}
		if err := note(off, err); err != nil {
			return err
		}
	}
	if len(refused) > 0 {
		return mongo.BulkWriteException{WriteErrors: refused}
	}
	return nil
}

// refusal is a command's first refused statement.
type refusal struct{ we mongo.BulkWriteError }

func (r refusal) Error() string { return r.we.Error() }

// retryWaits are the waits before a command that failed for a passing
// reason is sent again: four tries in about 2.6 s, plus each try's own
// wait at the server (FerretDB's busy timeout is 10 s).
var retryWaits = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second}

// updateCommand sends models as one unordered command, again while it
// fails for a passing reason (transient) and ctx allows; a command that
// only refused statements returns a refusal.
func updateCommand(ctx context.Context, coll *mongo.Collection, models []mongo.WriteModel) error {
	for try := 0; ; try++ {
		_, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if err == nil {
			return nil
		}
		if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
			return refusal{bwe.WriteErrors[0]}
		}
		if try == len(retryWaits) || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retryWaits[try]):
		}
	}
}

// transient reports whether a command failed for a reason that may have
// passed by the next try: the connection failed, or the server was busy
// with other writers (FerretDB's SQLite backend says "database is locked"
// once its 10 s busy timeout passed; a MongoDB labels such failures
// RetryableWriteError, or reports a WriteConflict, code 112). Under the
// load of a whole test suite on 2 cores, FerretDB's SQLite write lock was
// held past the timeout and one group commit's record updates failed
// (workers/runner TestManyRunnersStoringAtOnceKeepFerretDBAnswering).
func transient(err error) bool {
	if mongo.IsNetworkError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) &&
		(se.HasErrorLabel("RetryableWriteError") || se.HasErrorCode(112) || se.HasErrorMessage("database is locked"))
}
