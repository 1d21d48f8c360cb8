package httpauth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/simswarm/simswarm/controller/httpauth"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func from(addr string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = addr
	return r
}

func TestLimiterSlowsOneAddressOnly(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := &httpauth.Limiter{Max: 5, Window: 10 * time.Second, Now: clk.Now}
	a, b := from("192.0.2.1:1000"), from("192.0.2.2:1000")
	for i := 0; i < 5; i++ {
		if _, ok := l.Allow(a); !ok {
			t.Fatalf("failure %d refused", i+1)
		}
		l.Fail(a)
	}
	wait, ok := l.Allow(a)
	if ok || wait != 2*time.Second {
		t.Fatalf("after 5 failures: allowed %v, wait %v; want refused for 2s (one failure drains in 10s/5)", ok, wait)
	}
	if _, ok := l.Allow(from("192.0.2.1:2000")); ok {
		t.Fatal("another port of the same host is not limited")
	}
	if _, ok := l.Allow(b); !ok {
		t.Fatal("failures of A limited B")
	}
	clk.Advance(2 * time.Second)
	if _, ok := l.Allow(a); !ok {
		t.Fatal("2s later: still refused")
	}
	l.Fail(a)
	if _, ok := l.Allow(a); ok {
		t.Fatal("one failure after draining one: allowed again")
	}
	clk.Advance(10 * time.Second)
	if _, ok := l.Allow(a); !ok {
		t.Fatal("a window later: still refused")
	}
}

func TestLimiterMemoryIsBoundedAndExpires(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := &httpauth.Limiter{Max: 3, Window: time.Minute, MaxTracked: 100, Now: clk.Now}
	// The attacker, limited.
	att := from("198.51.100.7:1")
	for i := 0; i < 3; i++ {
		l.Fail(att)
	}
	// Ten thousand other addresses, one failure each.
	for i := 0; i < 10000; i++ {
		l.Fail(from(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)))
		if n := l.Tracked(); n > 100 {
			t.Fatalf("%d addresses held, cap 100", n)
		}
	}
	// The emptiest buckets make room first: the full one is kept.
	if _, ok := l.Allow(att); ok {
		t.Fatal("the limited address was forgotten while the table was full of single failures")
	}
	clk.Advance(61 * time.Second)
	l.Fail(from("203.0.113.1:1")) // the next failure sweeps drained buckets
	if n := l.Tracked(); n != 1 {
		t.Fatalf("a window later %d addresses held, want only the newest", n)
	}
}

func TestLimiterCountsIPv6Per64AndIgnoresForwardedForFromUntrustedPeers(t *testing.T) {
	l := &httpauth.Limiter{Max: 2}
	l.Fail(from("[2001:db8:1:2::1]:1"))
	l.Fail(from("[2001:db8:1:2:ffff::9]:1"))
	if _, ok := l.Allow(from("[2001:db8:1:2::77]:1")); ok {
		t.Fatal("another address of the same /64 is not limited")
	}
	if _, ok := l.Allow(from("[2001:db8:1:3::1]:1")); !ok {
		t.Fatal("another /64 is limited")
	}

	// A client cannot choose its own address with X-Forwarded-For ...
	spoof := func(remote, xff string) *http.Request {
		r := from(remote)
		r.Header.Set("X-Forwarded-For", xff)
		return r
	}
	l2 := &httpauth.Limiter{Max: 2}
	l2.Fail(spoof("192.0.2.9:1", "10.0.0.1"))
	l2.Fail(spoof("192.0.2.9:1", "10.0.0.2"))
	if _, ok := l2.Allow(spoof("192.0.2.9:1", "10.0.0.3")); ok {
		t.Fatal("X-Forwarded-For from an untrusted peer changed the address counted")
	}
	// ... unless the connection comes from a trusted proxy: then the
	// rightmost untrusted hop is the client.
	trusted, err := httpauth.ParsePrefixes("127.0.0.1, 10.9.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	l3 := &httpauth.Limiter{Max: 2, TrustedProxies: trusted}
	l3.Fail(spoof("127.0.0.1:1", "6.6.6.6, 192.0.2.50, 10.9.1.1"))
	l3.Fail(spoof("127.0.0.1:1", "7.7.7.7, 192.0.2.50"))
	if got := l3.Key(spoof("127.0.0.1:1", "1.1.1.1, 192.0.2.50, 10.9.1.1")); got != netip.MustParsePrefix("192.0.2.50/32") {
		t.Fatalf("client behind trusted proxies = %v", got)
	}
	if _, ok := l3.Allow(spoof("127.0.0.1:1", "192.0.2.50")); ok {
		t.Fatal("the client behind the proxy is not limited")
	}
	if _, ok := l3.Allow(spoof("127.0.0.1:1", "192.0.2.51")); !ok {
		t.Fatal("another client behind the same proxy is limited")
	}
}
