package runner

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// indexResults parses the run's .sca files into its result index document
// while its files are still on disk, for the group commit to write with
// its completion. A malformed file is no error: the document says what is
// wrong, and so does the run record (resultIndex), and the run succeeds.
func indexResults(rt schema.RunTask, attempt int, paths []string) *resultindex.Doc {
	return resultindex.Build(resultindex.Run{Campaign: rt.Campaign, UID: rt.UID, Run: rt.Run, Attempt: attempt}, paths)
}

// writeIndex writes the index documents of the batch's runs whose
// completion was stored (errs[i] nil), after the completions so that only
// the attempt whose results the run keeps is indexed. Its failure fails no
// run: it is told on the run record instead. A crash between the
// completions and this write leaves a succeeded run without an index
// document and without a resultIndex on its record, which is how tables
// tell an unindexed run.
func writeIndex(ctx context.Context, db *mongo.Database, batch []*commit, errs []error) {
	var docs []*resultindex.Doc
	var owners []*commit
	for i, c := range batch {
		if errs[i] == nil && c.index != nil {
			docs = append(docs, c.index)
			owners = append(owners, c)
		}
	}
	sub, err := resultindex.Insert(ctx, db, docs)
	for k, c := range owners {
		switch {
		case err != nil:
			c.indexErr = err
		case sub[k] != nil:
			c.indexErr = sub[k]
		}
	}
}

// recordFields is the run record's $set for a stored run: its completion's
// fields and what its result index holds.
func (c *commit) recordFields() bson.M {
	f := bson.M(c.comp.RecordFields())
	if c.index != nil {
		s := c.index.Summary()
		if c.indexErr != nil {
			s.Values, s.Error = 0, c.indexErr.Error()
		}
		f["resultIndex"] = s
	}
	return f
}
