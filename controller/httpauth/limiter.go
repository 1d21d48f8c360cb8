package httpauth

import (
	"math"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Defaults of a Limiter's zero fields.
const (
	DefaultMax        = 20
	DefaultWindow     = time.Minute
	DefaultMaxTracked = 10000
	// evictSample is how many buckets are looked at to find room in a
	// full table (as Redis approximates LRU): cheap, and an address
	// that is being limited is rarely the one thrown out.
	evictSample = 16
)

// Limiter limits failed authentication attempts per client address.
// Its zero value (with Now set or not) is ready to use; it must not be
// copied after first use.
type Limiter struct {
	// Max failures an address may make at once; they drain at Max per
	// Window. Default 20 (per minute).
	Max    int
	Window time.Duration
	// MaxTracked bounds the addresses held. Default 10000.
	MaxTracked int
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Now is the clock; default time.Now.
	Now func() time.Time

	mu        sync.Mutex
	buckets   map[netip.Prefix]*bucket
	lastSweep time.Time
}

// bucket is an address's failures: level at time at, draining linearly.
type bucket struct {
	level float64
	at    time.Time
}

func (l *Limiter) params() (max float64, window time.Duration, tracked int) {
	max, window, tracked = DefaultMax, DefaultWindow, DefaultMaxTracked
	if l.Max > 0 {
		max = float64(l.Max)
	}
	if l.Window > 0 {
		window = l.Window
	}
	if l.MaxTracked > 0 {
		tracked = l.MaxTracked
	}
	return max, window, tracked
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// key is the unit an address is counted in: the address itself, or its
// /64 for IPv6 (a host usually holds a whole /64).
func key(a netip.Addr) netip.Prefix {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// Key is the address r is counted under (see ClientAddr).
func (l *Limiter) Key(r *http.Request) netip.Prefix {
	return key(ClientAddr(r, l.TrustedProxies))
}

// levelAt is b's level at now.
func (b *bucket) levelAt(now time.Time, rate float64) float64 {
	d := now.Sub(b.at).Seconds()
	if d < 0 {
		d = 0 // the clock went back: drain nothing
	}
	return math.Max(0, b.level-d*rate)
}

// Allow reports whether r's address may try to authenticate now; if not,
// how long until it may.
func (l *Limiter) Allow(r *http.Request) (time.Duration, bool) {
	return l.allow(l.Key(r))
}

func (l *Limiter) allow(k netip.Prefix) (time.Duration, bool) {
	max, window, _ := l.params()
	rate := max / window.Seconds()
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[k]
	if b == nil {
		return 0, true
	}
	lv := b.levelAt(now, rate)
	if lv <= max-1 {
		return 0, true
	}
	wait := time.Duration((lv - (max - 1)) / rate * float64(time.Second))
	return max1s(wait), false
}

func max1s(d time.Duration) time.Duration {
	return time.Duration(math.Ceil(d.Seconds())) * time.Second
}

// Fail records a failed attempt from r's address.
func (l *Limiter) Fail(r *http.Request) { l.fail(l.Key(r)) }

func (l *Limiter) fail(k netip.Prefix) {
	max, window, tracked := l.params()
	rate := max / window.Seconds()
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[netip.Prefix]*bucket{}
	}
	if now.Sub(l.lastSweep) >= window {
		l.sweep(now, rate)
	}
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= tracked {
			l.makeRoom(now, rate, tracked)
		}
		b = &bucket{at: now}
		l.buckets[k] = b
	}
	b.level = math.Min(b.levelAt(now, rate)+1, max)
	b.at = now
}

// sweep forgets drained buckets (at most once a Window on its own, so
// addresses expire however few fail later).
func (l *Limiter) sweep(now time.Time, rate float64) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.levelAt(now, rate) == 0 {
			delete(l.buckets, k)
		}
	}
}

// makeRoom forgets drained buckets, and if none are, the emptiest of a
// sample.
func (l *Limiter) makeRoom(now time.Time, rate float64, tracked int) {
	l.sweep(now, rate)
	for len(l.buckets) >= tracked {
		var victim netip.Prefix
		low, n := math.Inf(1), 0
		for k, b := range l.buckets { // map order is random: a sample
			if lv := b.levelAt(now, rate); lv < low {
				victim, low = k, lv
			}
			if n++; n == evictSample {
				break
			}
		}
		delete(l.buckets, victim)
	}
}

// Tracked is the number of addresses held (for tests and metrics).
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
