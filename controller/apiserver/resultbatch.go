package apiserver

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/gridfs"
)

// downloadBatch streams several result files of one run as a tar archive
// (entries named as the files, in no particular order): the campaign and
// the run record are read once for all of them, and their chunks by one
// query, where one download per file pays for both every time.
func (s *Server) downloadBatch(w http.ResponseWriter, r *http.Request) {
	var req wire.ResultBatchRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&req); err != nil {
		s.fail(w, r, fmt.Errorf("%w: batch request: %v", errBadRequest, err))
		return
	}
	if len(req.Names) == 0 || len(req.Names) > wire.MaxResultBatchFiles {
		s.fail(w, r, fmt.Errorf("%w: a batch names 1 to %d files, not %d", errBadRequest, wire.MaxResultBatchFiles, len(req.Names)))
		return
	}
	rec, err := s.runRecord(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byName := make(map[string]schema.ResultFile, len(rec.Files))
	for _, f := range rec.Files {
		byName[f.Name] = f
	}
	ids := make([]any, 0, len(req.Names))
	names := make(map[string]string, len(req.Names))
	var total int64
	for _, n := range req.Names {
		f, ok := byName[n]
		if !ok {
			s.fail(w, r, fmt.Errorf("result %q of run %d: %w", n, rec.Run, store.ErrNotFound))
			return
		}
		k, err := gridfs.IDKey(f.FileID)
		if err != nil {
			s.fail(w, r, fmt.Errorf("result %q of run %d: %w", n, rec.Run, err))
			return
		}
		if _, dup := names[k]; dup {
			s.fail(w, r, fmt.Errorf("%w: result %q named twice", errBadRequest, n))
			return
		}
		names[k] = n
		ids = append(ids, f.FileID)
		total += f.Size
	}
	if total > wire.MaxResultBatchBytes {
		s.fail(w, r, fmt.Errorf("%w: the batch holds %d bytes, more than %d: download large files one by one", errBadRequest, total, wire.MaxResultBatchBytes))
		return
	}
	files, err := gridfs.Files(r.Context(), s.Store.DB, schema.BucketResults, ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(files) != len(ids) {
		s.fail(w, r, fmt.Errorf("run %d: %d of %d result files are not stored: %w", rec.Run, len(ids)-len(files), len(ids), store.ErrNotFound))
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	tw := tar.NewWriter(w)
	err = gridfs.ReadEach(r.Context(), s.Store.DB, schema.BucketResults, files, func(f gridfs.File, body io.Reader) error {
		k, _ := gridfs.IDKey(f.ID)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: names[k], Size: f.Length, Mode: 0o644,
			ModTime: rec.UpdatedAt, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, body)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		s.log().Warn("result batch download interrupted", zap.String("campaign", rec.Campaign), zap.Int("run", rec.Run), zap.Error(err))
		// The status is sent: break the response off, so that the client
		// sees a failed transfer, not a short archive.
		panic(http.ErrAbortHandler)
	}
}
