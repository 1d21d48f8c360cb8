package dashboard_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/apiserver"
	"github.com/simswarm/simswarm/controller/dashboard"
	"github.com/simswarm/simswarm/controller/httpauth"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/metrics"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

const token = "dash-token-0123456789"

// clock is a settable clock for session expiry; it follows real time
// plus an offset.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is the controller's HTTP side as manager.Run wires it (API,
// dashboard, metrics on one handler) on real Redis and FerretDB.
type env struct {
	st    *store.Store
	rdb   *redis.Client
	redis *testdb.Redis
	dash  *dashboard.Server
	srv   *httptest.Server
	clock *clock
}

func newEnv(t testing.TB, tweak ...func(*dashboard.Config)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	rs := testdb.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	e := &env{st: st, rdb: rdb, redis: rs, clock: &clock{}}
	e.serve(t, tweak...)
	return e
}

// another is a second controller's HTTP side over e's Redis and MongoDB
// (a standby, or e's controller after a restart), on e's clock.
func (e *env) another(t testing.TB, tweak ...func(*dashboard.Config)) *env {
	t.Helper()
	o := &env{st: e.st, rdb: e.rdb, redis: e.redis, clock: e.clock}
	o.serve(t, tweak...)
	return o
}

// serve wires the dashboard, API and metrics over e's stores as
// manager.Run does and serves them.
func (e *env) serve(t testing.TB, tweak ...func(*dashboard.Config)) {
	t.Helper()
	ctx := context.Background()
	st, rdb := e.st, e.rdb
	var err error
	insp := asynq.NewInspectorFromRedisClient(rdb)
	lim := &httpauth.Limiter{Now: e.clock.Now}
	cfg := dashboard.Config{Token: token, Campaigns: st, Runs: st, Builds: st, Queues: insp,
		Workers: heartbeat.Reader{Client: rdb}, Now: e.clock.Now, Limiter: lim, Revocations: st,
		StreamInterval: 200 * time.Millisecond, IndexMinInterval: 100 * time.Millisecond}
	for _, f := range tweak {
		f(&cfg)
	}
	e.dash, err = dashboard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	if err := m.AddSources(metrics.Sources{Campaigns: st, Builds: st, Queues: insp, Workers: cfg.Workers}); err != nil {
		t.Fatal(err)
	}
	apiSrv := &apiserver.Server{Store: st, Token: token, Session: e.dash.APISession, Notify: e.dash.Changed, Limiter: cfg.Limiter}
	e.srv = httptest.NewServer(manager.Routes(apiSrv.Handler(), e.dash, m.Handler()))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.dash.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done; e.srv.Close() })
}

// client is a browser-like client that does not follow redirects.
func (e *env) client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// clientFrom is a client whose connections come from the loopback
// address ip (127.0.0.0/8 is all loopback on Linux), so that tests can be
// several clients as the server sees them.
func (e *env) clientFrom(t testing.TB, ip string) *http.Client {
	c := e.client(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c.Transport = &http.Transport{DialContext: d.DialContext}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// login logs c in and returns the page's CSRF token.
func (e *env) login(t testing.TB, c *http.Client) string {
	t.Helper()
	resp, err := c.PostForm(e.srv.URL+"/ui/login", url.Values{"token": {token}, "next": {"/ui/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	return e.csrf(t, c)
}

var csrfRE = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func (e *env) csrf(t testing.TB, c *http.Client) string {
	t.Helper()
	code, body, _ := get(t, c, e.srv.URL+"/ui/")
	m := csrfRE.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("dashboard page: %d, no CSRF token in %q", code, body)
	}
	return m[1]
}

func get(t testing.TB, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func getJSON(t testing.TB, c *http.Client, u string, v any) {
	t.Helper()
	code, body, _ := get(t, c, u)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", u, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", u, err, body)
	}
}

func do(t testing.TB, c *http.Client, method, u string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// campaign stores a campaign object with runs 0..n-1 and a status as the
// reconciler would write it.
func (e *env) campaign(t testing.TB, name string, n int, st api.CampaignStatus) *api.Campaign {
	t.Helper()
	ctx := context.Background()
	c, err := e.st.Create(ctx, &api.Campaign{Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.org/m.git", Commit: "abc"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAloha", Runs: "0.." + strconv.Itoa(n-1)}}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Runs.Total == 0 {
		st.Runs = api.RunCounts{Total: int64(n), Pending: int64(n)}
	}
	if err := e.st.UpdateStatus(ctx, name, c.Metadata.UID, st, 1); err != nil {
		t.Fatal(err)
	}
	runs := make([]int, n)
	for i := range runs {
		runs[i] = i
	}
	if _, err := e.st.CreateRuns(ctx, name, c.Metadata.UID, runs); err != nil {
		t.Fatal(err)
	}
	c, err = e.st.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last: %s)", what, timeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
