package dashboard_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/dashboard"
)

// TestWithoutSessionPagesRedirectToLoginAndCallsGet401 is the issue's
// "without the token" test: every page sends the browser to the login
// (remembering where it was going), every view, stream and API call the
// page makes answers 401.
func TestWithoutSessionPagesRedirectToLoginAndCallsGet401(t *testing.T) {
	e := newEnv(t)
	e.campaign(t, "demo", 4, api.CampaignStatus{})
	c := e.client(t)
	for _, p := range []string{"/ui/", "/ui/campaigns/demo", "/ui/campaigns/demo/results", "/ui/queues", "/ui/swarm", "/ui/nowhere"} {
		code, _, h := get(t, c, e.srv.URL+p)
		if code != http.StatusSeeOther || h.Get("Location") != "/ui/login?next="+url.QueryEscape(p) {
			t.Errorf("GET %s without a session: %d to %q, want 303 to the login", p, code, h.Get("Location"))
		}
	}
	if code, _, h := get(t, c, e.srv.URL+"/"); code != http.StatusSeeOther || h.Get("Location") != "/ui/" {
		t.Errorf("GET / : %d %q, want a redirect to the dashboard", code, h.Get("Location"))
	}
	prefix := e.srv.URL + wire.Prefix + "/campaigns/demo"
	for _, call := range []struct{ method, url string }{
		{"GET", e.srv.URL + "/ui/api/overview"}, {"GET", e.srv.URL + "/ui/api/campaigns/demo"},
		{"GET", e.srv.URL + "/ui/api/queues"}, {"GET", e.srv.URL + "/ui/api/swarm"},
		{"GET", e.srv.URL + "/ui/api/stream?view=overview"},
		{"GET", e.srv.URL + "/ui/api/campaigns/demo/results"}, {"GET", e.srv.URL + "/ui/api/stream?view=results&name=demo"},
		{"GET", prefix}, {"GET", prefix + "/results/table"}, {"GET", prefix + "/runs/0"}, {"GET", prefix + "/results/0/x.sca"},
		{"POST", prefix + "/suspend"}, {"POST", prefix + "/retry"}, {"DELETE", prefix},
		{"GET", e.srv.URL + "/metrics"},
	} {
		if code, body := do(t, c, call.method, call.url, nil); code != http.StatusUnauthorized {
			t.Errorf("%s %s without a session: %d %s, want 401", call.method, call.url, code, body)
		}
	}
	// The login page itself and its assets need nothing.
	for _, p := range []string{"/ui/login", "/ui/static/app.css"} {
		if code, _, _ := get(t, c, e.srv.URL+p); code != 200 {
			t.Errorf("GET %s: %d, want 200", p, code)
		}
	}
	if cp, _ := e.st.Get(t.Context(), "demo"); cp == nil || cp.Spec.Suspend {
		t.Fatal("an unauthenticated call changed the campaign")
	}
}

func TestLoginSetsAStrictHttpOnlySessionAndGoesWhereTheUserWasGoing(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	for _, bad := range []string{"", "wrong", token + "x", strings.ToUpper(token)} {
		resp, err := c.PostForm(e.srv.URL+"/ui/login", url.Values{"token": {bad}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Fatalf("token %q: %s with cookies %v, want 401 and none", bad, resp.Status, resp.Cookies())
		}
	}
	resp, err := c.PostForm(e.srv.URL+"/ui/login", url.Values{"token": {token}, "next": {"/ui/campaigns/demo?state=Failed"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/campaigns/demo?state=Failed" {
		t.Fatalf("login: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
		t.Fatalf("session cookie %+v: want one HttpOnly SameSite=Strict cookie", cookies)
	}
	if strings.Contains(cookies[0].Value, token) {
		t.Fatal("the cookie carries the token")
	}
	code, body, h := get(t, c, e.srv.URL+"/ui/")
	if code != 200 || !strings.Contains(body, `name="csrf-token"`) {
		t.Fatalf("dashboard after login: %d %s", code, body)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}

	// Never an open redirect.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/apis/x", "/\\evil.example", "/ui/login"} {
		resp, err := e.client(t).PostForm(e.srv.URL+"/ui/login", url.Values{"token": {token}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/ui/" {
			t.Errorf("next=%q redirected to %q, want /ui/", next, loc)
		}
	}
}

func TestSessionExpiresTamperedCookiesFailAndLogoutRevokes(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	csrf := e.login(t, c)
	u, _ := url.Parse(e.srv.URL)
	orig := c.Jar.Cookies(u)[0]

	tampered := e.client(t)
	v := []byte(orig.Value)
	v[len(v)-2] ^= 1
	tampered.Jar.SetCookies(u, []*http.Cookie{{Name: orig.Name, Value: string(v), Path: "/"}})
	if code, _, _ := get(t, tampered, e.srv.URL+"/ui/"); code != http.StatusSeeOther {
		t.Errorf("tampered cookie: %d, want the login redirect", code)
	}

	e.clock.Advance(13 * time.Hour)
	if code, _, _ := get(t, c, e.srv.URL+"/ui/"); code != http.StatusSeeOther {
		t.Errorf("13h after login: %d, want the login redirect", code)
	}
	e.clock.Advance(-13 * time.Hour)
	if code, _, _ := get(t, c, e.srv.URL+"/ui/"); code != 200 {
		t.Fatalf("back in time: %d", code)
	}

	// Logging out without the CSRF token does not revoke; with it, it does
	// (even for a copy of the cookie).
	copyClient := e.client(t)
	copyClient.Jar.SetCookies(u, []*http.Cookie{{Name: orig.Name, Value: orig.Value, Path: "/"}})
	resp, err := c.PostForm(e.srv.URL+"/ui/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %s", resp.Status)
	}
	if code, _, _ := get(t, copyClient, e.srv.URL+"/ui/"); code != http.StatusSeeOther {
		t.Errorf("revoked session still works: %d", code)
	}
}

// TestPageWritesNeedTheCSRFTokenAndMetricsTakeTheBearerToken: the page's
// API calls go through with the session plus CSRF token only; /metrics
// takes the API token as Prometheus sends it, or a session.
func TestPageWritesNeedTheCSRFTokenAndMetricsTakeTheBearerToken(t *testing.T) {
	e := newEnv(t)
	e.campaign(t, "demo", 4, api.CampaignStatus{Phase: api.PhaseRunning})
	c := e.client(t)
	csrf := e.login(t, c)
	suspend := e.srv.URL + wire.Prefix + "/campaigns/demo/suspend"
	for _, hdr := range []map[string]string{nil, {"X-CSRF-Token": "nope"}, {"X-CSRF-Token": csrf, "Authorization": "Bearer wrong"}} {
		if code, body := do(t, c, "POST", suspend, hdr); code != http.StatusUnauthorized {
			t.Errorf("suspend with %v: %d %s, want 401", hdr, code, body)
		}
	}
	if code, body := do(t, c, "POST", suspend, map[string]string{"X-CSRF-Token": csrf}); code != 200 {
		t.Fatalf("suspend with the session and CSRF token: %d %s", code, body)
	}
	if cp, _ := e.st.Get(t.Context(), "demo"); !cp.Spec.Suspend {
		t.Fatal("campaign not suspended")
	}
	if code, _ := do(t, c, "GET", e.srv.URL+wire.Prefix+"/campaigns/demo/runs/0", nil); code != 200 {
		t.Errorf("reading a run with the session: %d", code)
	}

	anon := e.client(t)
	for _, hdr := range []map[string]string{{"Authorization": "Bearer " + token}, nil} {
		cl := anon
		if hdr == nil {
			cl = c // the session
		}
		code, body := do(t, cl, "GET", e.srv.URL+"/metrics", hdr)
		if code != 200 || !strings.Contains(body, `simswarm_campaign_runs{campaign="demo",state="pending"} 4`) ||
			!strings.Contains(body, `simswarm_campaigns{phase="running"} 1`) || !strings.Contains(body, `simswarm_queue_tasks{queue="run",state="pending"} 0`) ||
			!strings.Contains(body, "simswarm_reconcile_duration_seconds_bucket") || !strings.Contains(body, `simswarm_source_up{source="workers"} 1`) {
			t.Fatalf("/metrics with %v: %d\n%s", hdr, code, body)
		}
	}
	if code, _ := do(t, anon, "GET", e.srv.URL+"/metrics", map[string]string{"Authorization": "Bearer nope"}); code != 401 {
		t.Errorf("/metrics with a wrong token: %d", code)
	}
}

// TestFailedLoginsAndBearerTokensAreLimitedPerAddress: wrong logins and
// wrong bearer tokens from one address share one budget (20, draining
// over a minute); beyond it that address gets 429 even with the right
// token, while every other address, the owner's, logs in and calls the
// API at once. Real HTTP from distinct loopback addresses.
func TestFailedLoginsAndBearerTokensAreLimitedPerAddress(t *testing.T) {
	e := newEnv(t)
	attacker, owner, other := e.clientFrom(t, "127.0.0.2"), e.clientFrom(t, "127.0.0.3"), e.clientFrom(t, "127.0.0.4")
	login := func(c *http.Client, tok string) int {
		t.Helper()
		resp, err := c.PostForm(e.srv.URL+"/ui/login", url.Values{"token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	list := e.srv.URL + wire.Prefix + "/campaigns"
	bearer := func(c *http.Client, tok string) int {
		t.Helper()
		code, _ := do(t, c, "GET", list, map[string]string{"Authorization": "Bearer " + tok})
		return code
	}
	codes := map[int]int{}
	for i := 0; i < 10; i++ {
		codes[login(attacker, "guess")]++
		codes[bearer(attacker, "guess-guess-guess")]++
	}
	codes[bearer(attacker, "guess")]++
	codes[login(attacker, "guess")]++
	code, _ := do(t, attacker, "GET", e.srv.URL+"/metrics", map[string]string{"Authorization": "Bearer guess"})
	codes[code]++
	if codes[http.StatusUnauthorized] != 20 || codes[http.StatusTooManyRequests] != 3 {
		t.Fatalf("23 wrong logins and bearer tokens from one address: %v, want 20×401 then 429", codes)
	}
	// The limited address is refused even with the right token ...
	if c := login(attacker, token); c != http.StatusTooManyRequests {
		t.Fatalf("right login from the limited address: %d, want 429", c)
	}
	if c := bearer(attacker, token); c != http.StatusTooManyRequests {
		t.Fatalf("right bearer token from the limited address: %d, want 429", c)
	}
	// ... every other address is not: the owner logs in and uses the API.
	if c := login(owner, token); c != http.StatusSeeOther {
		t.Fatalf("owner's login from another address during the attack: %d, want 303", c)
	}
	if c := bearer(owner, token); c != http.StatusOK {
		t.Fatalf("owner's bearer token from another address during the attack: %d, want 200", c)
	}
	// A third address still has its whole budget (20 failures, not 1).
	for i := 0; i < 20; i++ {
		if c := bearer(other, "nope-nope-nope-nope"); c != http.StatusUnauthorized {
			t.Fatalf("failure %d from a third address: %d, want 401", i+1, c)
		}
	}
	// A 429 says when to come back; three seconds later one more try is
	// allowed (20 per minute drain), a minute later all of them.
	resp, err := attacker.PostForm(e.srv.URL+"/ui/login", url.Values{"token": {"guess"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("limited login: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	e.clock.Advance(3100 * time.Millisecond)
	if c := bearer(attacker, "guess"); c != http.StatusUnauthorized {
		t.Fatalf("3s later: %d, want one more 401", c)
	}
	if c := bearer(attacker, "guess"); c != http.StatusTooManyRequests {
		t.Fatalf("then: %d, want 429 again", c)
	}
	e.clock.Advance(61 * time.Second)
	if c := login(attacker, token); c != http.StatusSeeOther {
		t.Fatalf("right token after the window: %d", c)
	}
}

// TestAssetsAreEmbeddedAndFetchNothingFromTheInternet: the page works on
// an air-gapped cluster.
func TestAssetsAreEmbeddedAndFetchNothingFromTheInternet(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	e.login(t, c)
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	for _, p := range []string{"/ui/", "/ui/login", "/ui/static/app.js", "/ui/static/app.css", "/ui/static/favicon.svg"} {
		code, body, _ := get(t, c, e.srv.URL+p)
		if code != 200 || len(body) < 100 {
			t.Fatalf("GET %s: %d, %d bytes", p, code, len(body))
		}
		for _, m := range external.FindAllString(body, -1) {
			if m != "http://www.w3.org/" { // the SVG namespace, not a fetch
				t.Errorf("%s refers to %s", p, m)
			}
		}
	}
}

// TestStreamEndsWhenTheSessionIsLoggedOut: an open live view stops
// delivering data once its session is revoked (say, from another tab).
func TestStreamEndsWhenTheSessionIsLoggedOut(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	csrf := e.login(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/ui/api/stream?view=queues", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() string {
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "event: ") {
				return strings.TrimPrefix(l, "event: ")
			}
		}
		return "(stream ended)"
	}
	if ev := next(); ev != "view" {
		t.Fatalf("first event %q, want view", ev)
	}
	out, err := c.PostForm(e.srv.URL+"/ui/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	for {
		switch ev := next(); ev {
		case "logout":
			if ev := next(); ev != "(stream ended)" {
				t.Fatalf("after logout: event %q", ev)
			}
			return
		case "view":
			continue // computed before the logout
		default:
			t.Fatalf("event %q, want logout", ev)
		}
	}
}

// TestLogoutReachesEveryControllerAndSurvivesARestart: two controllers
// over one Redis and MongoDB (the active one and a standby). A session
// logged in on A works on B; once logged out on A, B refuses its cookie at
// once, for pages, views, API reads and writes, and so does a controller
// started afterwards over the same store.
func TestLogoutReachesEveryControllerAndSurvivesARestart(t *testing.T) {
	a := newEnv(t)
	b := a.another(t)
	a.campaign(t, "demo", 4, api.CampaignStatus{Phase: api.PhaseRunning})
	c := a.client(t)
	csrf := a.login(t, c)
	ua, _ := url.Parse(a.srv.URL)
	cookie := c.Jar.Cookies(ua)[0]

	// The same browser session, presented to another controller.
	on := func(e *env) *http.Client {
		cl := e.client(t)
		u, _ := url.Parse(e.srv.URL)
		cl.Jar.SetCookies(u, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
		return cl
	}
	type check struct {
		method, path string
		hdr          map[string]string
		ok           int
	}
	checks := []check{
		{"GET", "/ui/", nil, 200},
		{"GET", "/ui/api/overview", nil, 200},
		{"GET", wire.Prefix + "/campaigns/demo", nil, 200},
		{"POST", wire.Prefix + "/campaigns/demo/suspend", map[string]string{"X-CSRF-Token": csrf}, 200},
		{"POST", wire.Prefix + "/campaigns/demo/resume", map[string]string{"X-CSRF-Token": csrf}, 200},
	}
	bc := on(b)
	for _, ck := range checks {
		if code, body := do(t, bc, ck.method, b.srv.URL+ck.path, ck.hdr); code != ck.ok {
			t.Fatalf("before logout, on B: %s %s = %d %s", ck.method, ck.path, code, body)
		}
	}

	resp, err := c.PostForm(a.srv.URL+"/ui/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout on A: %s", resp.Status)
	}

	refused := func(e *env, who string) {
		t.Helper()
		cl := on(e)
		for _, ck := range checks[:4] { // reads, and the suspend
			code, body := do(t, cl, ck.method, e.srv.URL+ck.path, ck.hdr)
			want := http.StatusUnauthorized
			if ck.path == "/ui/" {
				want = http.StatusSeeOther
			}
			if code != want {
				t.Errorf("after logout, on %s: %s %s = %d %s, want %d", who, ck.method, ck.path, code, body, want)
			}
		}
		if cp, _ := e.st.Get(t.Context(), "demo"); cp.Spec.Suspend {
			t.Fatalf("a logged-out session suspended the campaign on %s", who)
		}
	}
	refused(a, "A")
	refused(b, "B")
	// A restarted controller (a new Server over the same store) still
	// refuses it, until the session would have expired anyway.
	refused(a.another(t), "a restarted controller")
}

// brokenRevocations is a store that does not answer.
type brokenRevocations struct{}

func (brokenRevocations) RevokeSession(context.Context, string, time.Time) error {
	return errors.New("database down")
}
func (brokenRevocations) SessionRevoked(context.Context, string) (bool, error) {
	return false, errors.New("database down")
}
func (brokenRevocations) PruneSessionRevocations(context.Context, time.Time) error {
	return errors.New("database down")
}

// TestSessionsThatCannotBeCheckedAreRefusedNotLoggedOut: when the store of
// revocations does not answer, a session is not trusted (503, not the
// page), nor treated as logged out, and a logout says it failed.
func TestSessionsThatCannotBeCheckedAreRefusedNotLoggedOut(t *testing.T) {
	var broken bool
	e := newEnv(t, func(cfg *dashboard.Config) {
		real := cfg.Revocations
		cfg.Revocations = switchable{on: &broken, real: real}
	})
	c := e.client(t)
	csrf := e.login(t, c)
	broken = true
	if code, body, _ := get(t, c, e.srv.URL+"/ui/"); code != http.StatusServiceUnavailable {
		t.Errorf("page while the store is down: %d %s, want 503", code, body)
	}
	if code, body, _ := get(t, c, e.srv.URL+"/ui/api/overview"); code != http.StatusServiceUnavailable {
		t.Errorf("view while the store is down: %d %s, want 503", code, body)
	}
	resp, err := c.PostForm(e.srv.URL+"/ui/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("logout while the store is down: %s, want 503", resp.Status)
	}
	// The failed logout holds on this controller; tried again once the
	// store is back, it holds everywhere.
	broken = false
	if code, _, _ := get(t, c, e.srv.URL+"/ui/"); code != http.StatusSeeOther {
		t.Errorf("page after the failed logout: %d, want the login redirect", code)
	}
	u, _ := url.Parse(e.srv.URL)
	cookie := c.Jar.Cookies(u)[0]
	resp, err = c.PostForm(e.srv.URL+"/ui/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout once the store is back: %s", resp.Status)
	}
	o := e.another(t)
	oc := o.client(t)
	ou, _ := url.Parse(o.srv.URL)
	oc.Jar.SetCookies(ou, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
	if code, _, _ := get(t, oc, o.srv.URL+"/ui/"); code != http.StatusSeeOther {
		t.Errorf("on another controller after the retried logout: %d, want the login redirect", code)
	}
}

type switchable struct {
	on   *bool
	real dashboard.Revocations
}

func (s switchable) pick() dashboard.Revocations {
	if *s.on {
		return brokenRevocations{}
	}
	return s.real
}
func (s switchable) RevokeSession(ctx context.Context, id string, exp time.Time) error {
	return s.pick().RevokeSession(ctx, id, exp)
}
func (s switchable) SessionRevoked(ctx context.Context, id string) (bool, error) {
	return s.pick().SessionRevoked(ctx, id)
}
func (s switchable) PruneSessionRevocations(ctx context.Context, t time.Time) error {
	return s.pick().PruneSessionRevocations(ctx, t)
}

// TestMetricsTakeTheBearerSchemeInAnyCase (RFC 7235).
func TestMetricsTakeTheBearerSchemeInAnyCase(t *testing.T) {
	e := newEnv(t)
	for _, scheme := range []string{"bearer", "BEARER"} {
		if code, body := do(t, e.client(t), "GET", e.srv.URL+"/metrics", map[string]string{"Authorization": scheme + " " + token}); code != 200 {
			t.Errorf("/metrics with %q scheme: %d %s", scheme, code, body)
		}
	}
}
