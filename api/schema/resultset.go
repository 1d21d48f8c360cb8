package schema

import "time"

// States of a result set.
const (
	// ResultSetDeleting: its campaign's run records are still being
	// removed; the counts are not final and it cannot be pruned yet.
	ResultSetDeleting = "Deleting"
	// ResultSetKept: the results of a deleted campaign, kept until pruned.
	ResultSetKept = "Kept"
	// ResultSetPruning: its files are being freed; no longer pulled.
	ResultSetPruning = "Pruning"
)

// ResultSet is the kept results of a deleted campaign object. Its files
// stay in GridFS, listed by the completions of its uid, until pruned.
type ResultSet struct {
	UID       string    `bson:"_id" json:"uid"`
	Name      string    `bson:"name" json:"name"`
	State     string    `bson:"state" json:"state"`
	DeletedAt time.Time `bson:"deletedAt" json:"deletedAt"`
	// Runs, Files and Bytes count the kept results (final once Kept).
	Runs  int64 `bson:"runs" json:"runs"`
	Files int64 `bson:"files" json:"files"`
	Bytes int64 `bson:"bytes" json:"bytes"`
	// Freed counts the runs whose files a prune has freed so far.
	Freed int64 `bson:"freed,omitempty" json:"freed,omitempty"`
}
