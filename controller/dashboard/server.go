package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/httpauth"
	"github.com/simswarm/simswarm/internal/httpquery"
)

// Config configures the dashboard. Token, Campaigns and Runs are
// required; every other source is optional and its part of the page says
// when it is missing.
type Config struct {
	// Token is the API token; logging in takes it.
	Token     string
	Campaigns Campaigns
	Runs      RunScanner
	Builds    Builds
	Queues    QueueInspector
	Live      LiveRuns
	// Results feeds the Results tab; optional.
	Results ResultIndex
	// RunVars gives the runs' iteration variables for run lists; optional.
	RunVars RunVars
	// QueueNames are the queues shown; default build and run.
	QueueNames []string
	Workers    Workers
	Swarm      SwarmObserver
	Logger     *zap.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Limiter limits failed logins and wrong bearer tokens (Protect) per
	// client address; share one with the API server. Default: one of the
	// dashboard's own, on Now.
	Limiter *httpauth.Limiter
	// Revocations keeps logged-out sessions where every controller of the
	// stack sees them (the store). Default: this process only.
	Revocations Revocations
	// SessionTTL is how long a login lasts. Default 12h.
	SessionTTL time.Duration
	// StreamInterval is how often live views are recomputed and pushed
	// when they changed. Default 2s.
	StreamInterval time.Duration
	// IndexMinInterval is the shortest pause between run index scans
	// (otherwise 10× the scan's cost); default 2s. IndexIdleAfter stops the
	// scans when no view asked for that long; default 2m.
	IndexMinInterval time.Duration
	IndexIdleAfter   time.Duration
}

// Server is the dashboard: its pages, their JSON views and live streams,
// the login, and the run index that feeds them. Run must be running for
// run lists to fill.
type Server struct {
	cfg      Config
	log      *zap.Logger
	sessions *sessions
	limiter  *httpauth.Limiter
	index    *runIndex
	memo     memo
	results  resultsCache
	// done is closed when Run returns: live streams end with it, so a
	// controller's shutdown does not wait for open browser tabs.
	done     chan struct{}
	doneOnce sync.Once
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Token == "" || cfg.Campaigns == nil || cfg.Runs == nil {
		return nil, errors.New("dashboard: Token, Campaigns and Runs are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.StreamInterval <= 0 {
		cfg.StreamInterval = 2 * time.Second
	}
	if cfg.IndexMinInterval <= 0 {
		cfg.IndexMinInterval = 2 * time.Second
	}
	if cfg.IndexIdleAfter <= 0 {
		cfg.IndexIdleAfter = 2 * time.Minute
	}
	if cfg.Revocations == nil {
		cfg.Revocations = &memRevocations{}
	}
	if cfg.Limiter == nil {
		cfg.Limiter = &httpauth.Limiter{Now: cfg.Now}
	}
	if len(cfg.QueueNames) == 0 {
		cfg.QueueNames = []string{schema.QueueBuild, schema.QueueRun}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, sessions: newSessions(cfg.Token, cfg.SessionTTL, cfg.Now, cfg.Revocations),
		limiter: cfg.Limiter, done: make(chan struct{})}
	s.index = newRunIndex(cfg.Runs, cfg.Now, cfg.IndexMinInterval, cfg.IndexIdleAfter, cfg.Logger)
	s.memo.ttl = min(cfg.StreamInterval/2, time.Second)
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// Run keeps the run index fresh while the dashboard is looked at, until
// ctx ends; then it ends the live streams.
func (s *Server) Run(ctx context.Context) {
	defer s.doneOnce.Do(func() { close(s.done) })
	s.index.run(ctx)
}

// Changed tells the dashboard that a campaign changed (an API write): its
// run list is rescanned as soon as the scan's cost bound allows.
func (s *Server) Changed(string) { s.index.refreshSoon() }

// Handler serves everything under /ui/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/login", s.loginPage)
	mux.HandleFunc("POST /ui/login", s.login)
	mux.HandleFunc("POST /ui/logout", s.logout)
	mux.Handle("GET /ui/static/", staticHandler())
	for _, p := range []string{"/ui/{$}", "/ui/campaigns/{name}", "/ui/campaigns/{name}/results", "/ui/queues", "/ui/swarm"} {
		mux.HandleFunc("GET "+p, s.requirePage(s.page))
	}
	mux.HandleFunc("GET /ui/api/overview", s.requireAPI(s.viewHandler(func(r *http.Request) (viewSpec, error) {
		return viewSpec{Kind: "overview"}, nil
	})))
	mux.HandleFunc("GET /ui/api/campaigns/{name}", s.requireAPI(s.viewHandler(func(r *http.Request) (viewSpec, error) {
		return campaignSpec(r.PathValue("name"), r)
	})))
	mux.HandleFunc("GET /ui/api/campaigns/{name}/results", s.requireAPI(s.viewHandler(func(r *http.Request) (viewSpec, error) {
		return resultsSpec(r.PathValue("name"), r), nil
	})))
	mux.HandleFunc("GET /ui/api/queues", s.requireAPI(s.viewHandler(func(r *http.Request) (viewSpec, error) {
		return viewSpec{Kind: "queues"}, nil
	})))
	mux.HandleFunc("GET /ui/api/swarm", s.requireAPI(s.viewHandler(func(r *http.Request) (viewSpec, error) {
		return viewSpec{Kind: "swarm"}, nil
	})))
	mux.HandleFunc("GET /ui/api/stream", s.requireAPI(s.stream))
	mux.HandleFunc("/ui/api/", s.requireAPI(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFound", "no such dashboard endpoint: "+r.Method+" "+r.URL.Path)
	}))
	mux.HandleFunc("/ui/", s.requirePage(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such page: "+r.URL.Path, http.StatusNotFound)
	}))
	return securityHeaders(mux)
}

// securityHeaders forbid everything the pages do not need: no script,
// style, font or image from anywhere but the controller, no framing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// viewSpec names one view and its parameters.
type viewSpec struct {
	Kind  string // overview, campaign, queues, swarm
	Name  string
	State string
	After int
	Limit int
	// The Results tab's choices.
	Scalar, X, Series string
}

func (v viewSpec) key() string {
	return fmt.Sprintf("%s|%s|%s|%d|%d|%q|%q|%q", v.Kind, v.Name, v.State, v.After, v.Limit, v.Scalar, v.X, v.Series)
}

func resultsSpec(name string, r *http.Request) viewSpec {
	q := r.URL.Query()
	return viewSpec{Kind: "results", Name: name, Scalar: q.Get("scalar"), X: q.Get("x"), Series: q.Get("series")}
}

func intQuery(r *http.Request, key string, def int) (int, error) {
	n, err := httpquery.Int(r, key, def)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return n, nil
}

func campaignSpec(name string, r *http.Request) (viewSpec, error) {
	after, err := intQuery(r, "after", -1)
	if err != nil {
		return viewSpec{}, err
	}
	limit, err := intQuery(r, "limit", defaultPageSize)
	if err != nil {
		return viewSpec{}, err
	}
	state := r.URL.Query().Get("state")
	if _, err := runFilter(state); err != nil {
		return viewSpec{}, err
	}
	return viewSpec{Kind: "campaign", Name: name, State: state, After: after, Limit: limit}, nil
}

// specFromQuery reads a stream's view from its query (?view=...).
func specFromQuery(r *http.Request) (viewSpec, error) {
	switch k := r.URL.Query().Get("view"); k {
	case "overview", "queues", "swarm":
		return viewSpec{Kind: k}, nil
	case "campaign":
		name := r.URL.Query().Get("name")
		if name == "" {
			return viewSpec{}, fmt.Errorf("%w: view=campaign needs name=", errBadRequest)
		}
		return campaignSpec(name, r)
	case "results":
		name := r.URL.Query().Get("name")
		if name == "" {
			return viewSpec{}, fmt.Errorf("%w: view=results needs name=", errBadRequest)
		}
		return resultsSpec(name, r), nil
	default:
		return viewSpec{}, fmt.Errorf("%w: view=%q is not overview, campaign, results, queues or swarm", errBadRequest, k)
	}
}

// compute returns the JSON of a view, shared for a moment between all
// clients asking for the same one.
func (s *Server) compute(ctx context.Context, v viewSpec) ([]byte, error) {
	return s.memo.get(v.key(), s.now, func() ([]byte, error) {
		var out any
		var err error
		switch v.Kind {
		case "overview":
			out, err = s.overview(ctx)
		case "campaign":
			out, err = s.campaignPage(ctx, v.Name, v.State, v.After, v.Limit)
		case "results":
			out, err = s.resultsPage(ctx, v)
		case "queues":
			out, err = s.queuesPage(ctx)
		case "swarm":
			out, err = s.swarmPage(ctx)
		default:
			err = fmt.Errorf("%w: unknown view %q", errBadRequest, v.Kind)
		}
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	})
}

func (s *Server) viewHandler(spec func(*http.Request) (viewSpec, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := spec(r)
		if err == nil {
			var b []byte
			if b, err = s.compute(r.Context(), v); err == nil {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				_, _ = w.Write(b)
				return
			}
		}
		s.fail(w, r, err)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errBadRequest):
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
	case isNotFound(err):
		writeError(w, http.StatusNotFound, "NotFound", err.Error())
	case r.Context().Err() != nil:
		// The client went away.
	default:
		s.log.Warn("dashboard view failed", zap.String("path", r.URL.Path), zap.Error(err))
		writeError(w, http.StatusInternalServerError, "InternalError", err.Error())
	}
}

// writeError writes a Status object like the API's.
func writeError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "code": code, "reason": reason, "message": msg})
}

// memo shares recently computed views.
type memo struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]*memoEntry
}

type memoEntry struct {
	mu  sync.Mutex // held while computing: concurrent askers wait for one result
	at  time.Time
	val []byte
}

// get returns key's value if it is younger than the ttl, else computes it
// (errors are not kept).
func (m *memo) get(key string, now func() time.Time, f func() ([]byte, error)) ([]byte, error) {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]*memoEntry{}
	}
	e := m.entries[key]
	if e == nil {
		e = &memoEntry{}
		m.entries[key] = e
	}
	// Forget entries nobody asked for lately, so page parameters cannot
	// grow the map without bound.
	if len(m.entries) > 256 {
		for k, o := range m.entries {
			if o != e && o.mu.TryLock() {
				if now().Sub(o.at) > time.Minute {
					delete(m.entries, k)
				}
				o.mu.Unlock()
			}
		}
	}
	m.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.val != nil && now().Sub(e.at) < m.ttl {
		return e.val, nil
	}
	v, err := f()
	if err != nil {
		return nil, err
	}
	e.val, e.at = v, now()
	return v, nil
}
