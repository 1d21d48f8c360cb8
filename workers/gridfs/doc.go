// Package gridfs streams GridFS files in bounded batches of chunks, for
// every reader and writer of simswarm's buckets (result files, build
// artifacts, source archives).
//
//	r, err := gridfs.OpenByName(ctx, db, schema.BucketArtifacts, schema.ArtifactName(key))
//	if errors.Is(err, mongo.ErrFileNotFound) { ... }
//	defer r.Close()
//	io.Copy(dst, r)
//
//	up, err := gridfs.Upload(ctx, db, schema.BucketArtifacts, name, f, bson.M{"key": key})
//
// The driver's download stream reads a file's chunks through one cursor
// without a batch size. MongoDB caps each reply at 16 MiB by itself, but a
// server that does not (FerretDB) answers with up to 101 chunks, then with
// every remaining chunk, and a file of more than about 75 MB then fails
// with "length of read message too large" on the client. Here the cursor
// asks for at most MaxReplyBytes of chunks per reply. The driver's upload
// stream holds 16 MiB and inserts it at once; Upload holds and inserts
// MaxInsertBytes.
//
// Guarantees:
//   - No reply carries more than MaxReplyBytes of chunk data (or one chunk,
//     if a chunk is larger), whatever the server, and no insert more than
//     MaxInsertBytes; memory held is one reply or one insert.
//   - A file reads back exactly its recorded length, its chunks in order
//     with the recorded chunk size; a missing, repeated or short chunk is
//     an error (io.ErrUnexpectedEOF wrapped with the file and chunk), never
//     silently shorter or different content.
//   - One query per file for the chunks (by files_id, sorted by n, which
//     the bucket's files_id_1_n_1 index serves), so the cost on a server
//     that scans per query (FerretDB) is one scan per file.
//   - ReadEach reads many files (the small results of one run) through one
//     chunk query over the range of their ids, passing over other files'
//     chunks in that range: a server that scans per query (FerretDB, where
//     $in also costs a comparison per id) pays one scan per batch.
//   - Upload writes the files document after every chunk, so a reader
//     never opens a file whose chunks are still being written.
//
// The runner writes result chunks itself, batched across runs (its group
// commit), at most MaxInsertBytes per command too. The buckets' indexes
// are the controller's (store.EnsureIndexes).
package gridfs
