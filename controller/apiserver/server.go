package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/httpauth"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/internal/httpquery"
	"github.com/simswarm/simswarm/internal/textutil"
	"github.com/simswarm/simswarm/workers/runlist"
)

// Limits.
const (
	MaxManifestBytes  = api.MaxManifestBytes
	DefaultSourceMax  = 512 << 20
	defaultRunsLimit  = 500
	maxRunsLimit      = 10000
	readHeaderTimeout = 10 * time.Second
)

// Server serves the API. Store and Token are required.
type Server struct {
	Store *store.Store
	// Token is the bearer token every request but /healthz must carry.
	Token string
	// Notify is told the name of every changed campaign (the reconciler's
	// queue); optional.
	Notify func(name string)
	// MaxSourceBytes caps source uploads. Default 512 MiB.
	MaxSourceBytes int64
	// Session, if set, lets requests without a bearer token through when
	// it approves them: the dashboard's logged-in pages (session cookie
	// plus CSRF token on writes). Nil: the bearer token only.
	Session func(r *http.Request) bool
	// Limiter limits wrong bearer tokens per client address; share one
	// with the dashboard's login so both draw on one budget. Default: a
	// limiter of this Server's own (httpauth defaults).
	Limiter *httpauth.Limiter
	Logger  *zap.Logger
	// RunLists gives the runs' iteration variables on pages of runs; share
	// one with the dashboard. Default: a cache of this Server's own.
	RunLists *runlist.Cache

	limOnce sync.Once
	lim     *httpauth.Limiter
	rlOnce  sync.Once
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	p := wire.Prefix + "/campaigns"
	mux.HandleFunc("GET "+p, s.auth(s.list))
	mux.HandleFunc("POST "+p, s.auth(s.create))
	mux.HandleFunc("GET "+p+"/{name}", s.auth(s.get))
	mux.HandleFunc("PUT "+p+"/{name}", s.auth(s.replace))
	mux.HandleFunc("PATCH "+p+"/{name}", s.auth(s.apply))
	mux.HandleFunc("POST "+p+"/{name}/apply", s.auth(s.apply))
	mux.HandleFunc("DELETE "+p+"/{name}", s.auth(s.delete))
	mux.HandleFunc("POST "+p+"/{name}/suspend", s.auth(s.setSuspend(true)))
	mux.HandleFunc("POST "+p+"/{name}/resume", s.auth(s.setSuspend(false)))
	mux.HandleFunc("POST "+p+"/{name}/retry", s.auth(s.retryFailed))
	mux.HandleFunc("GET "+p+"/{name}/runs", s.auth(s.runs))
	mux.HandleFunc("GET "+p+"/{name}/runs/{run}", s.auth(s.run))
	mux.HandleFunc("GET "+p+"/{name}/runs/{run}/logs", s.auth(s.logs))
	mux.HandleFunc("GET "+p+"/{name}/results", s.auth(s.results))
	mux.HandleFunc("GET "+p+"/{name}/results/table", s.auth(s.resultTable))
	mux.HandleFunc("GET "+p+"/{name}/results/{run}/{file}", s.auth(s.download))
	mux.HandleFunc("POST "+p+"/{name}/results/{run}", s.auth(s.downloadBatch))
	mux.HandleFunc("PUT "+wire.Prefix+"/sources/{sha}", s.auth(s.upload))
	mux.HandleFunc("HEAD "+wire.Prefix+"/sources/{sha}", s.auth(s.hasSource))
	s.resultSetRoutes(mux)
	mux.HandleFunc("/", s.auth(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusNotFound, "NotFound", "no such endpoint: "+r.Method+" "+r.URL.Path, nil)
	}))
	return mux
}

// NewHTTPServer wraps the handler with sane timeouts.
func (s *Server) NewHTTPServer(addr string) *http.Server {
	return &http.Server{Addr: addr, Handler: s.Handler(), ReadHeaderTimeout: readHeaderTimeout}
}

func (s *Server) log() *zap.Logger {
	if s.Logger == nil {
		return zap.NewNop()
	}
	return s.Logger
}

func (s *Server) limiter() *httpauth.Limiter {
	s.limOnce.Do(func() {
		s.lim = s.Limiter
		if s.lim == nil {
			s.lim = &httpauth.Limiter{}
		}
	})
	return s.lim
}

// auth lets h serve requests with the right bearer token (scheme in any
// case), or approved by Session when they carry no bearer token. Wrong
// tokens count against the client's address; a limited address is
// refused before its token is looked at.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	tok := httpauth.NewToken(s.Token)
	lim := s.limiter()
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := httpauth.Bearer(r)
		if !ok {
			if s.Session != nil && s.Session(r) {
				h(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="simswarm"`)
			writeStatus(w, http.StatusUnauthorized, "Unauthorized", "a valid bearer token is required", nil)
			return
		}
		if wait, allowed := lim.Allow(r); !allowed {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
			writeStatus(w, http.StatusTooManyRequests, "TooManyRequests",
				fmt.Sprintf("too many wrong tokens from this address: try again in %s", wait), nil)
			return
		}
		if !tok.Equal(got) {
			lim.Fail(r)
			// Never the token itself.
			s.log().Info("bearer token refused", zap.Stringer("client", lim.Key(r)), zap.String("path", r.URL.Path))
			w.Header().Set("WWW-Authenticate", `Bearer realm="simswarm", error="invalid_token"`)
			writeStatus(w, http.StatusUnauthorized, "Unauthorized", "a valid bearer token is required", nil)
			return
		}
		h(w, r)
	}
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string, causes []wire.Cause) {
	writeJSON(w, code, wire.Status{Kind: "Status", Code: code, Reason: reason, Message: msg, Causes: causes})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fieldErrors are errors that can list their field paths (e.g.
// *api.ValidationError); any error of the form "path: message" per line
// works too.
type fieldErrors interface{ FieldErrors() []wire.Cause }

func causesOf(err error) []wire.Cause {
	var fe fieldErrors
	if errors.As(err, &fe) {
		return fe.FieldErrors()
	}
	var ve *api.ValidationError
	var de *api.DecodeError
	var list []api.FieldError
	switch {
	case errors.As(err, &ve):
		list = ve.Errors
	case errors.As(err, &de):
		list = de.Errors
	}
	if list != nil {
		out := make([]wire.Cause, 0, len(list))
		for _, f := range list {
			out = append(out, wire.Cause{Field: f.Path, Message: f.Detail})
		}
		return out
	}
	var out []wire.Cause
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
		if line == "" {
			continue
		}
		if f, m, ok := strings.Cut(line, ": "); ok && !strings.Contains(f, " ") {
			out = append(out, wire.Cause{Field: f, Message: m})
		} else {
			out = append(out, wire.Cause{Message: line})
		}
	}
	return out
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if reason, ok := conflictOf(err); ok {
		writeStatus(w, http.StatusConflict, reason, err.Error(), nil)
		return
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeStatus(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("body larger than %d bytes", mbe.Limit), nil)
	case errors.Is(err, store.ErrNotFound):
		writeStatus(w, http.StatusNotFound, "NotFound", err.Error(), nil)
	case errors.Is(err, store.ErrAlreadyExists):
		writeStatus(w, http.StatusConflict, "AlreadyExists", err.Error(), nil)
	case errors.Is(err, store.ErrConflict):
		writeStatus(w, http.StatusConflict, "Conflict", err.Error(), nil)

	case errors.Is(err, errInvalid):
		writeStatus(w, http.StatusUnprocessableEntity, "Invalid", err.Error(), causesOf(errors.Unwrap(err)))
	case errors.Is(err, errBadRequest):
		writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), nil)
	default:
		s.log().Error("api request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		writeStatus(w, http.StatusInternalServerError, "InternalError", err.Error(), nil)
	}
}

var (
	errInvalid    = errors.New("invalid")
	errBadRequest = errors.New("bad request")
)

type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }
func (e invalidError) Unwrap() error { return e.err }
func (e invalidError) Is(t error) bool {
	return t == errInvalid
}

func invalid(err error) error { return invalidError{err} }

// decode reads and validates one campaign from the request body.
func (s *Server) decode(w http.ResponseWriter, r *http.Request) (*api.Campaign, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxManifestBytes))
	if err != nil {
		return nil, err
	}
	cs, err := api.ParseManifests(body, "request body")
	if err != nil {
		return nil, invalid(err)
	}
	if len(cs) != 1 {
		return nil, invalid(fmt.Errorf("body holds %d campaigns, want exactly 1", len(cs)))
	}
	c := cs[0]
	if c.Kind == "" {
		c.Kind = api.KindCampaign
	}
	if c.APIVersion == "" {
		c.APIVersion = api.APIVersion
	}
	api.SetDefaults(c)
	if err := api.Validate(c); err != nil {
		return nil, invalid(err)
	}
	if src := c.Spec.Source; src.Path != "" && src.Git == nil {
		// The controller cannot read the client's directory: it needs the
		// archive that `simswarm apply` uploads.
		if src.Archive == "" {
			return nil, invalid(errors.New("spec.source.archive: required for a path source (simswarm apply uploads the directory and sets it)"))
		}
		ok, err := s.Store.HasSource(r.Context(), src.Archive)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, invalid(fmt.Errorf("spec.source.archive: %s was not uploaded (PUT %s/sources/%s first)", src.Archive, wire.Prefix, src.Archive))
		}
	}
	return c, nil
}

func (s *Server) notify(name string) {
	if s.Notify != nil {
		s.Notify(name)
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Store.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []*api.Campaign{}
	}
	writeJSON(w, http.StatusOK, wire.CampaignList{APIVersion: api.APIVersion, Kind: "CampaignList", Items: cs})
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	c, err := s.decode(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Store.Create(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(out.Metadata.Name)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) nameMatches(c *api.Campaign, r *http.Request) error {
	if c.Metadata.Name != r.PathValue("name") {
		return invalid(fmt.Errorf("metadata.name: %q does not match the URL's %q", c.Metadata.Name, r.PathValue("name")))
	}
	return nil
}

func (s *Server) replace(w http.ResponseWriter, r *http.Request) {
	c, err := s.decode(w, r)
	if err == nil {
		err = s.nameMatches(c, r)
	}
	if err == nil && c.Metadata.ResourceVersion == "" {
		err = invalid(errors.New("metadata.resourceVersion: required for a replace (use apply to overwrite)"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Store.Update(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(out.Metadata.Name)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	c, err := s.decode(w, r)
	if err == nil {
		err = s.nameMatches(c, r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, created, err := s.Store.Apply(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(out.Metadata.Name)
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, out)
}

// delete marks the campaign deleted (?purge=true: its results too) and
// returns it: the reconciler removes its run records in bounded batches,
// showing progress in its status (phase Deleting), then the object.
func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	purge, err := boolParam(r, "purge")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Store.MarkDeleted(r.Context(), name, purge)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(name)
	writeJSON(w, http.StatusAccepted, c)
}

func boolParam(r *http.Request, key string) (bool, error) {
	b, err := httpquery.Bool(r, key)
	if err != nil {
		return false, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return b, nil
}

func (s *Server) setSuspend(suspend bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		for attempt := 0; ; attempt++ {
			c, err := s.Store.Get(r.Context(), name)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			c.Spec.Suspend = suspend
			out, err := s.Store.Update(r.Context(), c)
			if errors.Is(err, store.ErrConflict) && attempt < 10 {
				continue // a status write raced us: read again
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
			s.notify(name)
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
}

// retryFailed sends the campaign's failed runs back to Pending for one
// more attempt each.
func (s *Server) retryFailed(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.Store.RetryFailedRuns(r.Context(), c.Metadata.Name, c.Metadata.UID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(c.Metadata.Name)
	writeStatus(w, http.StatusOK, "Retried", textutil.Plural(n, "failed run")+" of "+c.Metadata.Name+" sent back to the queue", nil)
}

func intParam(r *http.Request, key string, def int) (int, error) {
	n, err := httpquery.Int(r, key, def)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return n, nil
}

func (s *Server) campaignAndPage(r *http.Request) (*api.Campaign, int, int, error) {
	c, err := s.Store.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, 0, 0, err
	}
	after, err := intParam(r, "after", -1)
	if err != nil {
		return nil, 0, 0, err
	}
	limit, err := intParam(r, "limit", defaultRunsLimit)
	if err != nil {
		return nil, 0, 0, err
	}
	if limit <= 0 || limit > maxRunsLimit {
		limit = maxRunsLimit
	}
	return c, after, limit, nil
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	c, after, limit, err := s.campaignAndPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := s.Store.Runs(r.Context(), store.RunQuery{Campaign: c.Metadata.Name, UID: c.Metadata.UID,
		State: r.URL.Query().Get("state"), After: after, Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := wire.RunList{Kind: "RunList", Items: recs, Next: -1}
	if out.Items == nil {
		out.Items = []schema.RunRecord{}
	}
	out.Itervars = s.itervars(r, c, recs)
	if len(recs) == limit {
		out.Next = recs[len(recs)-1].Run
	}
	writeJSON(w, http.StatusOK, out)
}

// itervars are recs' iteration variables, or none when the run list
// cannot be read (the page is served without them, the failure logged).
func (s *Server) itervars(r *http.Request, c *api.Campaign, recs []schema.RunRecord) map[int]string {
	s.rlOnce.Do(func() {
		if s.RunLists == nil {
			s.RunLists = &runlist.Cache{DB: s.Store.DB}
		}
	})
	vars, err := s.RunLists.OfCampaign(r.Context(), c)
	if err != nil {
		if r.Context().Err() == nil {
			s.log().Warn("cannot read the run list for the runs' variables", zap.String("campaign", c.Metadata.Name), zap.Error(err))
		}
		return nil
	}
	var out map[int]string
	for _, rec := range recs {
		if v := vars.Of(rec.Run); v != "" {
			if out == nil {
				out = make(map[int]string, len(recs))
			}
			out[rec.Run] = v
		}
	}
	return out
}

func (s *Server) runRecord(r *http.Request) (*schema.RunRecord, error) {
	c, err := s.Store.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(r.PathValue("run"))
	if err != nil {
		return nil, fmt.Errorf("%w: run %q is not a number", errBadRequest, r.PathValue("run"))
	}
	return s.Store.GetRun(r.Context(), c.Metadata.Name, c.Metadata.UID, n)
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	rec, err := s.runRecord(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	rec, err := s.runRecord(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "# run %d: %s, attempts %d, exit code %d, worker %s\n", rec.Run, rec.State, rec.Attempts, rec.ExitCode, rec.Worker)
	if rec.Message != "" {
		fmt.Fprintf(w, "# %s\n", rec.Message)
	}
	_, _ = io.WriteString(w, rec.StderrTail)
}

func (s *Server) results(w http.ResponseWriter, r *http.Request) {
	c, after, limit, err := s.campaignAndPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := s.Store.Runs(r.Context(), store.RunQuery{Campaign: c.Metadata.Name, UID: c.Metadata.UID,
		State: schema.RunSucceeded, After: after, Limit: limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := wire.ResultList{Kind: "ResultList", Items: []wire.ResultEntry{}, Next: -1}
	for _, rec := range recs {
		for _, f := range rec.Files {
			out.Items = append(out.Items, wire.ResultEntry{Run: rec.Run, Name: f.Name, Size: f.Size, SHA256: f.SHA256})
		}
	}
	if len(recs) == limit {
		out.Next = recs[len(recs)-1].Run
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	rec, err := s.runRecord(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("file")
	for _, f := range rec.Files {
		if f.Name != name {
			continue
		}
		s.sendResult(w, r, f, zap.String("campaign", rec.Campaign), zap.Int("run", rec.Run))
		return
	}
	s.fail(w, r, fmt.Errorf("result %q of run %d: %w", name, rec.Run, store.ErrNotFound))
}

// sendResult streams one stored result file with its size and digest;
// fields name it in the log if the client goes away mid-file.
func (s *Server) sendResult(w http.ResponseWriter, r *http.Request, f schema.ResultFile, fields ...zap.Field) {
	st, err := s.Store.OpenFile(r.Context(), schema.BucketResults, f.FileID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer st.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	w.Header().Set("X-Content-SHA256", f.SHA256)
	if _, err := io.Copy(w, st); err != nil {
		s.log().Warn("result download interrupted", append(fields, zap.Error(err))...)
	}
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Server) hasSource(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	ok, err := s.Store.HasSource(r.Context(), sha)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// upload spools the body to a temp file while hashing it, then stores it
// only if the digest is the one named in the URL.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if !shaRE.MatchString(sha) {
		s.fail(w, r, fmt.Errorf("%w: %q is not a lowercase hex sha256", errBadRequest, sha))
		return
	}
	limit := s.MaxSourceBytes
	if limit <= 0 {
		limit = DefaultSourceMax
	}
	tmp, err := os.CreateTemp("", "simswarm-source-*")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		writeStatus(w, http.StatusUnprocessableEntity, "DigestMismatch", fmt.Sprintf("body has sha256 %s, not %s", got, sha), nil)
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.PutSource(r.Context(), sha, tmp); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log().Info("source archive stored", zap.String("sha256", sha), zap.Int64("bytes", n))
	writeStatus(w, http.StatusCreated, "Stored", "source "+sha+" stored", nil)
}
