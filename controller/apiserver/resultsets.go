package apiserver

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/store"
)

// Result sets: the results a deleted campaign kept, under its uid, until
// pruned.
//
//	GET    /apis/simswarm.io/v1alpha1/resultsets                  list
//	GET    .../resultsets/UID                                     one
//	GET    .../resultsets/UID/results?continue=C&limit=L          its result files, a page of runs
//	GET    .../resultsets/UID/results/RUN/FILE                    download one
//	DELETE .../resultsets/UID                                     prune: free its files (202; the controller
//	                                                              frees them in bounded batches, then the set is gone)

func (s *Server) resultSetRoutes(mux *http.ServeMux) {
	p := wire.Prefix + "/resultsets"
	mux.HandleFunc("GET "+p, s.auth(s.listResultSets))
	mux.HandleFunc("GET "+p+"/{uid}", s.auth(s.getResultSet))
	mux.HandleFunc("DELETE "+p+"/{uid}", s.auth(s.pruneResultSet))
	mux.HandleFunc("GET "+p+"/{uid}/results", s.auth(s.resultSetFiles))
	mux.HandleFunc("GET "+p+"/{uid}/results/{run}/{file}", s.auth(s.resultSetDownload))
}

func (s *Server) listResultSets(w http.ResponseWriter, r *http.Request) {
	sets, err := s.Store.ResultSets(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.ResultSetList{Kind: "ResultSetList", Items: sets})
}

func (s *Server) getResultSet(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Store.GetResultSet(r.Context(), r.PathValue("uid"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rs)
}

// pullable returns the result set named in the request if its files can
// be read (not being pruned).
func (s *Server) pullable(r *http.Request) (*schema.ResultSet, error) {
	rs, err := s.Store.GetResultSet(r.Context(), r.PathValue("uid"))
	if err != nil {
		return nil, err
	}
	if rs.State == schema.ResultSetPruning {
		return nil, fmt.Errorf("result set %s (campaign %s) is being pruned: %w", rs.UID, rs.Name, store.ErrNotFound)
	}
	return rs, nil
}

func (s *Server) resultSetFiles(w http.ResponseWriter, r *http.Request) {
	rs, err := s.pullable(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := intParam(r, "limit", defaultRunsLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if limit <= 0 || limit > maxRunsLimit {
		limit = maxRunsLimit
	}
	runs, next, err := s.Store.KeptResults(r.Context(), rs.UID, r.URL.Query().Get("continue"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := wire.KeptResultList{Kind: "KeptResultList", Items: []wire.ResultEntry{}, Continue: next}
	for _, kr := range runs {
		for _, f := range kr.Files {
			out.Items = append(out.Items, wire.ResultEntry{Run: kr.Run, Name: f.Name, Size: f.Size, SHA256: f.SHA256})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) resultSetDownload(w http.ResponseWriter, r *http.Request) {
	rs, err := s.pullable(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := strconv.Atoi(r.PathValue("run"))
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: run %q is not a number", errBadRequest, r.PathValue("run")))
		return
	}
	f, err := s.Store.KeptResult(r.Context(), rs, run, r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendResult(w, r, *f, zap.String("uid", rs.UID), zap.Int("run", run))
}

func (s *Server) pruneResultSet(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Store.RequestPrune(r.Context(), r.PathValue("uid"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(PruneKey(rs.UID))
	writeJSON(w, http.StatusAccepted, rs)
}

// PruneKey is what Notify is told when a result set is to be pruned (the
// reconciler's key for it: campaign.PruneKey).
func PruneKey(uid string) string { return "prune:" + uid }

// conflictOf maps the store's refusals of a deleted campaign's objects.
func conflictOf(err error) (string, bool) {
	switch {
	case errors.Is(err, store.ErrDeleting):
		return "Deleting", true
	case errors.Is(err, store.ErrInUse):
		return "InUse", true
	}
	return "", false
}
