package dashboard

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api/wire"
)

// The pages and their assets are embedded: the dashboard fetches nothing
// from the internet and works on an air-gapped cluster.
//
//go:embed assets
var assets embed.FS

var templates = template.Must(template.ParseFS(assets, "assets/*.html"))

// staticHandler serves assets/static under /ui/static/ (public: no data).
func staticHandler() http.Handler {
	sub, err := fs.Sub(assets, "assets/static")
	if err != nil {
		panic("dashboard: embedded assets: " + err.Error()) // built in: cannot fail
	}
	fsrv := http.StripPrefix("/ui/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache") // revalidated: a new controller's assets apply at once
		fsrv.ServeHTTP(w, r)
	})
}

// pageData fills index.html.
type pageData struct {
	CSRF      string
	APIPrefix string
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	id, _, _ := s.sessions.parse(r) // requirePage checked it
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := templates.ExecuteTemplate(w, "index.html", pageData{CSRF: s.sessions.csrf(id), APIPrefix: wire.Prefix}); err != nil {
		s.log.Debug("writing dashboard page failed")
	}
}

// loginData fills login.html.
type loginData struct {
	Next  string
	Error string
}

func (s *Server) renderLogin(w http.ResponseWriter, code int, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = templates.ExecuteTemplate(w, "login.html", d)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// maxLoginBody bounds the login form.
const maxLoginBody = 8 << 10

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	next := safeNext(r.PostFormValue("next"))
	if wait, ok := s.limiter.Allow(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		s.renderLogin(w, http.StatusTooManyRequests, loginData{Next: next,
			Error: "Too many failed attempts from this address: try again in " + wait.String() + "."})
		return
	}
	if !s.sessions.tokenOK(strings.TrimSpace(r.PostFormValue("token"))) {
		s.limiter.Fail(r)
		s.log.Info("dashboard login refused", zap.Stringer("client", s.limiter.Key(r))) // never the token itself
		s.renderLogin(w, http.StatusUnauthorized, loginData{Next: next, Error: "That is not the API token."})
		return
	}
	http.SetCookie(w, s.sessions.issue(r.TLS != nil))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	// A session the store cannot vouch for is logged out all the same.
	if id, exp, ok := s.sessions.parse(r); ok && s.sessions.csrfOK(r, id, true) {
		if err := s.sessions.revoke(r.Context(), id, exp); err != nil {
			// The session is ended here (revoke cached it) but would still
			// work on other controllers: say so, keep the cookie for a retry.
			s.log.Warn("logout not recorded", zap.Error(err))
			http.Error(w, "Logging out failed (the controller's database did not answer): try again.", http.StatusServiceUnavailable)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on the dashboard (no open
// redirect to another site).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/ui/") ||
		strings.HasPrefix(next, "//") || strings.Contains(next, "\\") || strings.HasPrefix(u.Path, "/ui/login") {
		return "/ui/"
	}
	return u.RequestURI()
}

// requirePage sends visitors without a session to the login page.
func (s *Server) requirePage(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _, err := s.sessions.session(r)
		if errors.Is(err, errNoSession) {
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.log.Warn("cannot check a dashboard session", zap.Error(err))
			http.Error(w, "The session cannot be checked (the controller's database did not answer): try again.", http.StatusServiceUnavailable)
			return
		}
		h(w, r)
	}
}

// requireAPI answers 401 to requests without a session.
func (s *Server) requireAPI(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, err := s.apiSession(r)
		if err != nil {
			s.log.Warn("cannot check a dashboard session", zap.Error(err))
			writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the session cannot be checked: "+err.Error())
			return
		}
		if !ok {
			writeError(w, http.StatusUnauthorized, "Unauthorized", "log in to the dashboard first (session missing or expired)")
			return
		}
		h(w, r)
	}
}
