package apiserver_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/apiserver"
	"github.com/simswarm/simswarm/controller/httpauth"
)

// from is a client whose connections come from the loopback address ip.
func from(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 30 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func status(t *testing.T, c *http.Client, url, auth string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestWrongBearerTokensAreLimitedPerAddress: the API on its own (no
// dashboard) slows token guessing per client address, and never refuses
// the right token from an address that is not limited.
func TestWrongBearerTokensAreLimitedPerAddress(t *testing.T) {
	_, st, _ := start(t)
	clk := &testClock{t: time.Unix(2e9, 0)}
	srv := &apiserver.Server{Store: st, Token: token, Limiter: &httpauth.Limiter{Now: clk.Now}}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	url := hs.URL + wire.Prefix + "/campaigns"
	attacker, owner := from(t, "127.0.0.5"), from(t, "127.0.0.6")

	codes := map[int]int{}
	for i := 0; i < 25; i++ {
		c, _ := status(t, attacker, url, "Bearer wrong-token-wrong-token")
		codes[c]++
	}
	if codes[401] != 20 || codes[429] != 5 {
		t.Fatalf("25 wrong tokens from one address: %v, want 20×401 then 5×429", codes)
	}
	c, h := status(t, attacker, url, "Bearer "+token)
	if c != 429 || h.Get("Retry-After") != "3" {
		t.Fatalf("right token from the limited address: %d, Retry-After %q; want 429 and 3 (seconds)", c, h.Get("Retry-After"))
	}
	if c, _ := status(t, owner, url, "Bearer "+token); c != 200 {
		t.Fatalf("right token from another address: %d, want 200", c)
	}
	// Requests without a token are no guesses: they do not use the budget.
	for i := 0; i < 30; i++ {
		if c, _ := status(t, owner, url, ""); c != 401 {
			t.Fatalf("no token: %d", c)
		}
	}
	if c, _ := status(t, owner, url, "Bearer "+token); c != 200 {
		t.Fatalf("right token after requests without one: %d, want 200", c)
	}
	clk.Advance(time.Minute)
	if c, _ := status(t, attacker, url, "Bearer "+token); c != 200 {
		t.Fatalf("right token a minute later: %d, want 200", c)
	}
}

// TestBearerSchemeIsCaseInsensitive: RFC 7235 auth schemes are
// case-insensitive; the token itself is not.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	c, _, _ := start(t)
	url := c.Server + wire.Prefix + "/campaigns"
	cl := from(t, "127.0.0.7")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		if code, _ := status(t, cl, url, scheme+" "+token); code != 200 {
			t.Errorf("%q scheme: %d, want 200", scheme, code)
		}
	}
	for _, auth := range []string{"Bearer", "Bearer ", "Bearertoken" + token, "Basic " + token, "bearer " + strings.ToUpper(token)} {
		if code, _ := status(t, cl, url, auth); code != 401 {
			t.Errorf("Authorization %q: %d, want 401", auth, code)
		}
	}
}
