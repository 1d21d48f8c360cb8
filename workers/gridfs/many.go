package gridfs

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Files returns the files documents of bucket with the given ids (one
// query), in no particular order; ids with no file are left out.
func Files(ctx context.Context, db *mongo.Database, bucket string, ids []any) ([]File, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		k, err := IDKey(id)
		if err != nil {
			return nil, fmt.Errorf("file %v: %w", id, err)
		}
		want[k] = true
	}
	cur, err := db.Collection(bucket+".files").Find(ctx, bson.M{"_id": idFilter(ids)})
	if err != nil {
		return nil, fmt.Errorf("find files in %s: %w", bucket, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var out []File
	for cur.Next(ctx) {
		rv := cur.Current.Lookup("_id")
		if !want[string(rune(rv.Type))+string(rv.Value)] {
			continue // in the range, not asked for
		}
		var f File
		if err := cur.Decode(&f); err != nil {
			return nil, fmt.Errorf("find files in %s: %w", bucket, err)
		}
		out = append(out, f)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("find files in %s: %w", bucket, err)
	}
	return out, nil
}

// idFilter selects ids. ObjectIDs made together (the files of one run) lie
// close together, so a range of them is selected by two comparisons per
// document, where $in costs one per id on a server that scans (FerretDB:
// a batch of n files of a collection of N cost n*N); what else lies in
// the range is skipped by the caller. Other ids are selected by $in.
func idFilter(ids []any) bson.M {
	var lo, hi bson.ObjectID
	for i, id := range ids {
		oid, ok := id.(bson.ObjectID)
		if !ok {
			return bson.M{"$in": ids}
		}
		if i == 0 || bytes.Compare(oid[:], lo[:]) < 0 {
			lo = oid
		}
		if i == 0 || bytes.Compare(oid[:], hi[:]) > 0 {
			hi = oid
		}
	}
	return bson.M{"$gte": lo, "$lte": hi}
}

// ReadEach streams many files of bucket through one query for all their
// chunks (on a server that scans per query, one scan instead of one per
// file), in bounded replies as a Reader does. It calls fn once per file,
// in the order the chunks come, with a reader of the file's bytes that is
// valid until fn returns; fn must read it to the end. A file whose chunks
// are missing, out of order or short is an error, as for a Reader.
func ReadEach(ctx context.Context, db *mongo.Database, bucket string, files []File, fn func(File, io.Reader) error) error {
	index := make(map[string]int, len(files))
	ids := make([]any, 0, len(files))
	var largest int64 = 1
	for i, f := range files {
		k, err := IDKey(f.ID)
		if err != nil {
			return fmt.Errorf("file %v: %w", f.ID, err)
		}
		index[k] = i
		largest = max(largest, min(int64(f.ChunkSize), f.Length))
		if f.Length == 0 {
			if err := fn(f, eofReader{}); err != nil {
				return err
			}
			continue
		}
		ids = append(ids, f.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	cur, err := db.Collection(bucket+".chunks").Find(ctx, bson.M{"files_id": idFilter(ids)},
		options.Find().SetSort(bson.D{{Key: "files_id", Value: 1}, {Key: "n", Value: 1}}).
			SetBatchSize(batchSize(largest)))
	if err != nil {
		return fmt.Errorf("read chunks in %s: %w", bucket, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	seen := make([]bool, len(files))
	done := 0
	for cur.Next(ctx) {
		rv := cur.Current.Lookup("files_id")
		i, ok := index[string(rune(rv.Type))+string(rv.Value)]
		if !ok {
			continue // another file's chunk in the range of ids
		}
		if seen[i] || files[i].Length == 0 {
			return fmt.Errorf("read chunks in %s: a chunk of file %v that is not being read, or beyond its end: %w", bucket, rv, io.ErrUnexpectedEOF)
		}
		seen[i] = true
		f := files[i]
		r := &Reader{ctx: ctx, file: f, left: f.Length, cur: cur, shared: true, key: string(rune(rv.Type)) + string(rv.Value)}
		if err := fn(f, r); err != nil {
			return err
		}
		if r.left != 0 {
			if r.err != nil {
				return r.err
			}
			return fmt.Errorf("file %v (%s): not read to its end", f.ID, f.Filename)
		}
		done++
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read chunks in %s: %w", bucket, err)
	}
	if done != len(ids) {
		for i, f := range files {
			if f.Length != 0 && !seen[i] {
				return fmt.Errorf("file %v (%s): no chunks: %w", f.ID, f.Filename, io.ErrUnexpectedEOF)
			}
		}
	}
	return nil
}

// IDKey is the BSON type and bytes of an id, as a map key (ids decoded
// into an any are not all comparable).
func IDKey(id any) (string, error) {
	t, b, err := bson.MarshalValue(id)
	if err != nil {
		return "", err
	}
	return string(rune(t)) + string(b), nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
