package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/controller/httpauth"
)

// Sessions: logging in with the API token sets a cookie that is HttpOnly
// (page scripts cannot read it), SameSite=Strict (other sites' pages
// cannot make the browser send it) and Secure when served over TLS. The
// cookie is signed: its key is derived from the API token, so sessions
// work on every controller instance, survive a restart, and all end when
// the token changes. Logging out records the session in Revocations (the
// store every controller shares) until it would have expired; every
// session check reads it there, so a logout holds on every controller at
// once. Only revocations are cached (they never end early), never the
// absence of one. State-changing requests made with a session must also
// carry its CSRF token in the X-CSRF-Token header.

const (
	cookieName = "simswarm_session"
	csrfHeader = "X-CSRF-Token"
)

// errNoSession: the request has no valid session (as opposed to an error
// checking it).
var errNoSession = errors.New("no valid session")

type sessions struct {
	token httpauth.Token // the API token
	key   []byte         // HMAC key of session cookies
	ttl   time.Duration
	now   func() time.Time

	store Revocations

	mu      sync.Mutex
	revoked map[string]time.Time // known revoked session id -> its expiry
}

func newSessions(token string, ttl time.Duration, now func() time.Time, store Revocations) *sessions {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("simswarm dashboard session v1"))
	return &sessions{token: httpauth.NewToken(token), key: m.Sum(nil), ttl: ttl, now: now, store: store,
		revoked: map[string]time.Time{}}
}

// tokenOK compares a presented token with the API token in constant time.
func (s *sessions) tokenOK(got string) bool { return s.token.Equal(got) }

func (s *sessions) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(parts, ".")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issue returns the cookie of a new session.
func (s *sessions) issue(secure bool) *http.Cookie {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	exp := s.now().Add(s.ttl)
	e := strconv.FormatInt(exp.Unix(), 10)
	return &http.Cookie{Name: cookieName, Value: "v1." + id + "." + e + "." + s.mac("v1", id, e),
		Path: "/", Expires: exp, MaxAge: int(s.ttl.Seconds()), HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode}
}

// parse returns the id and expiry of r's session cookie if it is signed
// and unexpired; it does not look for a revocation (see session).
func (s *sessions) parse(r *http.Request) (string, time.Time, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", time.Time{}, false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return "", time.Time{}, false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.mac(parts[0], parts[1], parts[2]))) {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	exp := time.Unix(sec, 0)
	if !s.now().Before(exp) {
		return "", time.Time{}, false
	}
	return parts[1], exp, true
}

// session returns the id and expiry of r's valid session: errNoSession
// when it has none (or it was logged out), another error when the store
// of revocations could not say.
func (s *sessions) session(r *http.Request) (string, time.Time, error) {
	id, exp, ok := s.parse(r)
	if !ok {
		return "", time.Time{}, errNoSession
	}
	s.mu.Lock()
	_, known := s.revoked[id]
	s.mu.Unlock()
	if known {
		return "", time.Time{}, errNoSession
	}
	revoked, err := s.store.SessionRevoked(r.Context(), id)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("checking the session: %w", err)
	}
	if revoked {
		s.remember(id, exp)
		return "", time.Time{}, errNoSession
	}
	return id, exp, nil
}

// csrf is the CSRF token of session id.
func (s *sessions) csrf(id string) string { return s.mac("csrf", id) }

// csrfOK checks the CSRF token r carries for session id: in the header,
// or with form in a "csrf" form field (the dashboard's own forms; never for
// API requests, whose bodies are not the session's to read).
func (s *sessions) csrfOK(r *http.Request, id string, form bool) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" && form {
		got = r.PostFormValue("csrf")
	}
	return got != "" && hmac.Equal([]byte(got), []byte(s.csrf(id)))
}

// revoke ends session id on every controller: it is recorded in the
// shared store until exp, after which it is invalid anyway.
func (s *sessions) revoke(ctx context.Context, id string, exp time.Time) error {
	s.remember(id, exp)
	if err := s.store.RevokeSession(ctx, id, exp); err != nil {
		return err
	}
	// Best effort: revocations of expired sessions are dead weight.
	_ = s.store.PruneSessionRevocations(ctx, s.now())
	return nil
}

// remember caches that session id is revoked (until exp).
func (s *sessions) remember(id string, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, e := range s.revoked {
		if !now.Before(e) {
			delete(s.revoked, k)
		}
	}
	s.revoked[id] = exp
}

// safeMethod: requests that change nothing need no CSRF token.
func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// APISession reports whether r is made by a logged-in dashboard page: a
// valid session cookie and, unless r only reads, the session's CSRF token.
// The controller hands it to the API server so the page can use the API
// (suspend, delete, downloads) without holding the token.
func (s *Server) APISession(r *http.Request) bool {
	ok, err := s.apiSession(r)
	if err != nil {
		s.log.Warn("refusing a dashboard session that cannot be checked", zap.Error(err))
	}
	return ok
}

// apiSession is APISession with the error of a session check that could
// not be made (the caller answers 503 instead of 401).
func (s *Server) apiSession(r *http.Request) (bool, error) {
	id, _, err := s.sessions.session(r)
	switch {
	case errors.Is(err, errNoSession):
		return false, nil
	case err != nil:
		return false, err
	}
	return safeMethod(r.Method) || s.sessions.csrfOK(r, id, false), nil
}

// tooManyFailures answers a client address that is being limited.
func tooManyFailures(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
	writeError(w, http.StatusTooManyRequests, "TooManyRequests", "too many wrong tokens from this address: try again in "+wait.String())
}

// Protect wraps h (e.g. /metrics) so that it needs either the API token
// as a bearer token, as Prometheus sends it, or a dashboard session.
func (s *Server) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, ok := httpauth.Bearer(r); ok {
			if wait, allowed := s.limiter.Allow(r); !allowed {
				tooManyFailures(w, wait)
				return
			}
			if s.sessions.tokenOK(got) {
				h.ServeHTTP(w, r)
				return
			}
			s.limiter.Fail(r)
		} else if s.APISession(r) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="simswarm"`)
		writeError(w, http.StatusUnauthorized, "Unauthorized", "a valid bearer token or dashboard session is required")
	})
}
