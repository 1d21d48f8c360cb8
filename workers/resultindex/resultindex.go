package resultindex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/scafile"
)

// Collection holds the index documents.
const Collection = "resultindex"

// MaxValues bounds the values of one document: at about 60 bytes each,
// a few MB.
const MaxValues = 100_000

// Doc is a run's index document.
type Doc struct {
	ID         string `bson:"_id" json:"-"`
	Campaign   string `bson:"campaign" json:"campaign"`
	UID        string `bson:"uid" json:"uid"`
	Run        int    `bson:"run" json:"run"`
	Attempt    int    `bson:"attempt" json:"attempt"`
	Config     string `bson:"config,omitempty" json:"config,omitempty"`
	Repetition string `bson:"repetition,omitempty" json:"repetition,omitempty"`
	Itervars   []KV   `bson:"itervars" json:"itervars"`
	Values     Values `bson:"values" json:"values"`
	Skipped    int    `bson:"skipped,omitempty" json:"skipped,omitempty"`
	Error      string `bson:"error,omitempty" json:"error,omitempty"`
	// Indexed is, on a document Scan read, how many values the run has in
	// the index, Values being those its keep accepted.
	Indexed int `bson:"-" json:"-"`
}

// KV is an iteration variable.
type KV struct {
	Name  string `bson:"n" json:"name"`
	Value string `bson:"v" json:"value"`
}

// Value is a scalar, or a statistic's field.
type Value struct {
	Module string  `bson:"m" json:"module"`
	Name   string  `bson:"n" json:"name"`
	Value  float64 `bson:"v" json:"value"`
}

// Run names the run a document indexes.
type Run struct {
	Campaign, UID string
	Run, Attempt  int
}

// Summary is what the run record says of its index (field resultIndex).
type Summary = schema.IndexSummary

// Summary is d's summary for the run record.
func (d *Doc) Summary() Summary {
	return Summary{Values: len(d.Values), Skipped: d.Skipped, Error: d.Error}
}

// Build parses the .sca files among paths (others are left out) into the
// run's document. See the package's guarantees.
func Build(r Run, paths []string) *Doc {
	d := New(r)
	var errs []string
	for _, p := range paths {
		if !strings.HasSuffix(p, ".sca") {
			continue
		}
		if err := d.add(p); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", filepath.Base(p), err))
		}
	}
	d.Error = strings.Join(errs, "; ")
	return d
}

var errTooMany = fmt.Errorf("more than %d values: the rest are not indexed", MaxValues)

// add adds the runs of one file.
func (d *Doc) add(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return d.addSCA(f)
}

// AddSCA adds the runs of the .sca file name read from r, as Build does
// with a file on disk: a file that cannot be parsed is named with the
// reason in d.Error, together with the values of those that could be.
func (d *Doc) AddSCA(name string, r io.Reader) {
	if err := d.addSCA(r); err != nil {
		e := fmt.Sprintf("%s: %v", path.Base(name), err)
		if d.Error != "" {
			e = d.Error + "; " + e
		}
		d.Error = e
	}
}

func (d *Doc) addSCA(r io.Reader) error {
	sca, err := scafile.Parse(r, scafile.Limits{})
	if err != nil {
		return err
	}
	d.Skipped += sca.SkippedCount
	return d.AddFile(sca)
}

// New is the empty document of run r, which AddSCA fills.
func New(r Run) *Doc {
	return &Doc{ID: schema.RunID(r.Campaign, r.UID, r.Run), Campaign: r.Campaign, UID: r.UID, Run: r.Run, Attempt: r.Attempt,
		Itervars: []KV{}, Values: Values{}}
}

// AddFile adds a parsed file's values (and the first run's itervars,
// config and repetition, when d has none yet).
func (d *Doc) AddFile(sca *scafile.File) error {
	for _, r := range sca.Runs {
		if len(d.Itervars) == 0 {
			for _, kv := range r.Itervars {
				d.Itervars = append(d.Itervars, KV{kv.Name, kv.Value})
			}
		}
		if d.Config == "" {
			d.Config, _ = scafile.Attr(r.Attrs, "configname")
		}
		if d.Repetition == "" {
			d.Repetition, _ = scafile.Attr(r.Attrs, "repetition")
		}
		for _, s := range r.Scalars {
			if len(d.Values) >= MaxValues {
				return errTooMany
			}
			d.Values = append(d.Values, Value{s.Module, s.Name, s.Value})
		}
		for _, s := range r.Statistics {
			for _, f := range s.Fields {
				if len(d.Values) >= MaxValues {
					return errTooMany
				}
				d.Values = append(d.Values, Value{s.Module, s.Name + ":" + f.Name, f.Value})
			}
		}
	}
	return nil
}

// Insert writes docs in one command; a document already there counts as
// written. It returns, per document, the error that kept it out (nil
// entries for those written), or an error for the whole command. About
// one call in compactEvery then compacts the campaign objects it wrote to
// (Compact), best effort: a compaction that fails leaves the documents
// where they are, for the next one.
func Insert(ctx context.Context, db *mongo.Database, docs []*Doc) ([]error, error) {
	errs, err := insert(ctx, db, docs)
	if err == nil {
		for _, uid := range compactDue(docs) {
			_, _ = Compact(ctx, db, uid)
		}
	}
	return errs, err
}

func insert(ctx context.Context, db *mongo.Database, docs []*Doc) ([]error, error) {
	errs := make([]error, len(docs))
	if len(docs) == 0 {
		return errs, nil
	}
	all := make([]any, len(docs))
	for i, d := range docs {
		all[i] = d
	}
	_, err := db.Collection(Collection).InsertMany(ctx, all, options.InsertMany().SetOrdered(false))
	if err == nil {
		return errs, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, fmt.Errorf("write result index: %w", err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(errs) {
			return nil, fmt.Errorf("write result index: %w", err)
		}
		if !we.HasErrorCode(11000) {
			errs[we.Index] = fmt.Errorf("write result index: %w", we)
		}
	}
	return errs, nil
}

// Indexes are the collection's indexes (store.EnsureIndexes makes them).
func Indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "uid", Value: 1}}, Options: options.Index().SetName("uid")},
		{Keys: bson.D{{Key: "campaign", Value: 1}, {Key: "uid", Value: 1}}, Options: options.Index().SetName("campaign_uid")},
	}
}
