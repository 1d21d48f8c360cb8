package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// errCompletedElsewhere reports that another attempt of the run inserted
// its completion first.
var errCompletedElsewhere = errors.New("run completed by another attempt")

// errUnstored marks a failed write of result chunks or file documents:
// the run's completion was not written.
var errUnstored = errors.New("upload results")

// commitTimeout bounds one group commit. It does not follow a task's
// context: a commit carries other tasks' writes too, and a worker shutting
// down should still store what it finished.
const commitTimeout = time.Minute

// maxCommitRuns bounds the runs one group commit carries: as many as a
// batch's write (maxBatchCommit).
const maxCommitRuns = maxBatchCommit

// commit is what storing one successful run writes: the tail of its result
// chunks, its file documents, its completion and its record's outcome.
type commit struct {
	chunks []chunkDoc
	files  []any
	comp   *schema.Completion
	done   chan commitResult
	// index is the run's result index document (index.go), nil for none;
	// indexErr what kept it from being written.
	index    *resultindex.Doc
	indexErr error
}

type commitResult struct {
	err  error
	lead bool // the receiver now writes the pending commits
}

// groupCommit writes the commits of concurrently finishing runs together,
// one command per collection for all of them. A database command has a
// fixed cost that dwarfs a small document (on FerretDB's SQLite backend a
// transaction and about a millisecond of CPU), so with several runs
// finishing at once this divides a run's share of the database's work.
// No timer holds a commit back: the first arrival writes at once, and
// whatever arrives while it writes goes together in the next command, so
// batches grow only when the database is the bottleneck.
//
// Each run's writes keep their order (chunks, files, completion, record),
// so a crash at any point leaves what a single run's writes would: files
// without a completion are orphans the retry replaces, a completion
// without its record's outcome is settled by the retry.
type groupCommit struct {
	mu      sync.Mutex
	pending []*commit
	writing bool
	// wmu is held by the write in flight: a batch's commits (storeAll)
	// and the group's take turns, so a process has one write at a time,
	// as the database gate counts it.
	wmu sync.Mutex
}

// store writes c together with whatever else is pending and returns c's
// outcome: nil, errCompletedElsewhere, or the error of a write (after
// which any of c's writes may or may not have happened).
func (g *groupCommit) store(w dbWriter, c *commit) error {
	c.done = make(chan commitResult, 1)
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if g.writing {
		g.mu.Unlock()
		r := <-c.done
		if !r.lead {
			return r.err
		}
	} else {
		g.writing = true
		g.mu.Unlock()
	}
	// The writer's own commit is first in line (nobody else takes from
	// pending), so one write stores it; then the writing passes to the
	// next in line, so that nobody's task waits on more than the batch in
	// flight and its own.
	g.mu.Lock()
	n := min(len(g.pending), maxCommitRuns)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()
	mine := g.write(w, batch, c)
	g.mu.Lock()
	if len(g.pending) == 0 {
		g.writing, g.pending = false, nil
		g.mu.Unlock()
		return mine
	}
	next := g.pending[0]
	g.mu.Unlock()
	next.done <- commitResult{lead: true}
	return mine
}

// write stores a batch, tells every other member its outcome, and returns
// the outcome of self (the writer, first in the batch).
func (g *groupCommit) write(w dbWriter, batch []*commit, self *commit) error {
	errs := make([]error, len(batch))
	g.wmu.Lock()
	w.writeBatch(batch, errs)
	g.wmu.Unlock()
	var mine error
	for i, c := range batch {
		if c == self {
			mine = errs[i]
			continue
		}
		c.done <- commitResult{err: errs[i]}
	}
	return mine
}

// writeBatch sets errs[i] to the outcome of batch[i]. A failed command
// fails every run it carried; a refused document fails only its run.
func writeBatch(ctx context.Context, db *mongo.Database, batch []*commit, errs []error) {
	fail := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	var chunks []chunkDoc
	var files []any
	for _, c := range batch {
		chunks = append(chunks, c.chunks...)
		files = append(files, c.files...)
	}
	// Each run's share is below maxBatchBytes (upload flushes at that), but
	// the runs of one batch together are not: insert them in commands of
	// at most maxBatchBytes of chunk data each.
	coll := db.Collection(schema.BucketResults + ".chunks")
	for len(chunks) > 0 {
		k, bytes := 0, 0
		for k < len(chunks) && (k == 0 || bytes+len(chunks[k].Data) <= maxBatchBytes) {
			bytes += len(chunks[k].Data)
			k++
		}
		if _, err := coll.InsertMany(ctx, chunks[:k]); err != nil {
			fail(fmt.Errorf("%w: %w", errUnstored, err))
			return
		}
		chunks = chunks[k:]
	}
	if len(files) > 0 {
		if _, err := db.Collection(schema.BucketResults+".files").InsertMany(ctx, files); err != nil {
			fail(fmt.Errorf("%w: %w", errUnstored, err))
			return
		}
	}
	comps := make([]any, len(batch))
	for i, c := range batch {
		comps[i] = c.comp
	}
	// Unordered: a duplicate (another attempt won) refuses only that run.
	_, err := db.Collection(schema.CollCompletions).InsertMany(ctx, comps, options.InsertMany().SetOrdered(false))
	if !perDocument(err, errs, func(we mongo.WriteError) error {
		if we.HasErrorCode(11000) {
			return errCompletedElsewhere
		}
		return fmt.Errorf("record completion: %w", we)
	}) {
		fail(fmt.Errorf("record completion: %w", err))
		return
	}
	writeIndex(ctx, db, batch, errs)
	var models []mongo.WriteModel
	var idx []int
	for i, c := range batch {
		if errs[i] == nil {
			models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": c.comp.ID}).
				SetUpdate(bson.M{"$set": c.recordFields()}))
			idx = append(idx, i)
		}
	}
	if len(models) == 0 {
		return
	}
	err = schema.UpdateInCommands(ctx, db.Collection(schema.CollRuns), models)
	sub := make([]error, len(models))
	if !perDocument(err, sub, func(we mongo.WriteError) error { return fmt.Errorf("record run: %w", we) }) {
		fail(fmt.Errorf("record runs: %w", err))
		return
	}
	for k, i := range idx {
		errs[i] = sub[k]
	}
}

// perDocument spreads a bulk write's per-document errors over errs (by the
// index within the write) and reports whether err was nothing but those.
func perDocument(err error, errs []error, conv func(mongo.WriteError) error) bool {
	if err == nil {
		return true
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(errs) {
			return false
		}
		errs[we.Index] = conv(we.WriteError)
	}
	return true
}

// WriteGate bounds the processes writing to the database at once, across
// a cluster (dbgate.Gate): Acquire waits for a place and returns its
// release; an error with a release means the gate itself failed and the
// write may go on.
type WriteGate interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// dbWriter is where a group commit writes: the database, behind the
// cluster's gate when there is one.
type dbWriter struct {
	DB   *mongo.Database
	Gate WriteGate
	Log  *zap.Logger // nil: nothing is logged
}

// writer is the handler's dbWriter.
func (h *Handler) writer() dbWriter { return dbWriter{DB: h.DB, Gate: h.Gate, Log: h.logger()} }

// writeBatch writes batch (see the package function) once the gate lets
// it in, within commitTimeout of that; a gate still full after gateWait
// fails every run unstored. The wait has a bound of its own, far above
// commitTimeout: the runs' results are uploaded already, and a queue of
// many runners' commits (100 in TestManyRunnersStoringAtOnce...) can
// take minutes to drain.
func (w dbWriter) writeBatch(batch []*commit, errs []error) {
	if w.Gate != nil {
		wctx, cancel := context.WithTimeout(context.Background(), gateWait)
		release, err := w.Gate.Acquire(wctx)
		cancel()
		if release == nil {
			for i := range errs {
				errs[i] = fmt.Errorf("%w: %w", errUnstored, err)
			}
			return
		}
		defer release()
		if err != nil && w.Log != nil {
			w.Log.Warn("writing without the database writers' gate", zap.Error(err))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	writeBatch(ctx, w.DB, batch, errs)
}

// gateWait bounds the wait for a place at the database writers' gate.
const gateWait = 10 * time.Minute

// maxBatchCommit bounds the runs of a batch one write carries, and so the
// time a write holds its place at the gate. (Bulk updates of a few hundred
// records once wedged FerretDB 1.24 for good; the cause was the
// statements per command, which schema.UpdateInCommands bounds.)
const maxBatchCommit = 16

// storeAll writes the commits of one batch's runs together, one command
// per collection as a group commit does (maxBatchCommit at a time), and
// returns each one's outcome as store does. A batch is a group already: it
// does not wait for single runs' commits to join it, only for the write in
// flight.
func (g *groupCommit) storeAll(w dbWriter, cs []*commit) []error {
	errs := make([]error, len(cs))
	for len(cs) > 0 {
		k := min(len(cs), maxBatchCommit)
		g.wmu.Lock()
		w.writeBatch(cs[:k], errs[len(errs)-len(cs):][:k])
		g.wmu.Unlock()
		cs = cs[k:]
	}
	return errs
}
