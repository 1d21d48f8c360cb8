package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sessions: logging in with the API token sets a cookie that is HttpOnly
// (page scripts cannot read it), SameSite=Strict (other sites' pages
// cannot make the browser send it) and Secure when served over TLS. The
// cookie is signed, not stored: its key is derived from the API token, so
// sessions survive a controller restart, work on every controller
// instance, and all end when the token changes. Logging out revokes the
// session in this process. State-changing requests made with a session
// must also carry its CSRF token in the X-CSRF-Token header.

const (
	cookieName = "simswarm_session"
	csrfHeader = "X-CSRF-Token"
	// maxLoginFailures per loginWindow, then logins are refused (429)
	// until the window has passed: a token cannot be guessed at speed.
	maxLoginFailures = 20
	loginWindow      = time.Minute
)

type sessions struct {
	token []byte // the API token
	key   []byte // HMAC key of session cookies
	ttl   time.Duration
	now   func() time.Time

	mu       sync.Mutex
	revoked  map[string]time.Time // session id -> its expiry
	failures []time.Time          // recent failed logins
}

func newSessions(token string, ttl time.Duration, now func() time.Time) *sessions {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("simswarm dashboard session v1"))
	return &sessions{token: []byte(token), key: m.Sum(nil), ttl: ttl, now: now, revoked: map[string]time.Time{}}
}

// tokenOK compares a presented token with the API token in constant time
// (digests, so lengths leak nothing either).
func (s *sessions) tokenOK(got string) bool {
	if len(s.token) == 0 {
		return false
	}
	want := sha256.Sum256(s.token)
	gd := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(gd[:], want[:]) == 1
}

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

// session returns the id and expiry of r's valid session.
func (s *sessions) session(r *http.Request) (string, time.Time, bool) {
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
	s.mu.Lock()
	_, revoked := s.revoked[parts[1]]
	s.mu.Unlock()
	if revoked {
		return "", time.Time{}, false
	}
	return parts[1], exp, true
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

// revoke ends session id (until its expiry, after which it is invalid
// anyway and forgotten).
func (s *sessions) revoke(id string, exp time.Time) {
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

// loginAllowed reports whether a login may be tried now.
func (s *sessions) loginAllowed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trimFailures()
	return len(s.failures) < maxLoginFailures
}

func (s *sessions) loginFailed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trimFailures()
	s.failures = append(s.failures, s.now())
}

func (s *sessions) trimFailures() {
	cut := s.now().Add(-loginWindow)
	i := 0
	for i < len(s.failures) && s.failures[i].Before(cut) {
		i++
	}
	s.failures = s.failures[i:]
}

// safeMethod: requests that change nothing need no CSRF token.
func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// APISession reports whether r is made by a logged-in dashboard page: a
// valid session cookie and, unless r only reads, the session's CSRF token.
// The controller hands it to the API server so the page can use the API
// (suspend, delete, downloads) without holding the token.
func (s *Server) APISession(r *http.Request) bool {
	id, _, ok := s.sessions.session(r)
	return ok && (safeMethod(r.Method) || s.sessions.csrfOK(r, id, false))
}

// Protect wraps h (e.g. /metrics) so that it needs either the API token
// as a bearer token, as Prometheus sends it, or a dashboard session.
func (s *Server) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.sessions.tokenOK(got) {
			h.ServeHTTP(w, r)
			return
		}
		if s.APISession(r) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="simswarm"`)
		writeError(w, http.StatusUnauthorized, "Unauthorized", "a valid bearer token or dashboard session is required")
	})
}
