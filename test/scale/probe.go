package scale

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Latencies are the response times of one kind of request.
type Latencies []time.Duration

func (l Latencies) String() string {
	if len(l) == 0 {
		return "none"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("n=%d p50 %s p95 %s max %s", len(s), q(0.5).Round(time.Millisecond),
		q(0.95).Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// Max is the longest response time.
func (l Latencies) Max() time.Duration {
	if len(l) == 0 {
		return 0
	}
	return slices.Max(l)
}

// Probe times what a user does while a campaign runs: `simswarm get`
// (GET of the campaign), `simswarm describe` (the same, and its recent
// failures when there are), the first page of `simswarm runs`, and the
// dashboard's campaign view and overview (as its page fetches them, with
// a session).
type Probe struct {
	Get, Describe, Runs, Dashboard, Overview Latencies
	Errors                                   []error
}

// Probe logs in to the dashboard and times the requests of Probe every
// interval until ctx ends.
func (h *Harness) Probe(ctx context.Context, tb testing.TB, campaign string, every time.Duration) *Probe {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := hc.PostForm(h.Server+"/ui/login", url.Values{"token": {h.Token}})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	p := &Probe{}
	timed := func(l *Latencies, f func() error) {
		t0 := time.Now()
		if err := f(); err != nil {
			if ctx.Err() == nil {
				p.Errors = append(p.Errors, err)
			}
			return
		}
		*l = append(*l, time.Since(t0))
	}
	page := func(path string) func() error {
		return func() error {
			r, err := hc.Get(h.Server + path)
			if err != nil {
				return err
			}
			defer r.Body.Close()
			b, _ := io.ReadAll(r.Body)
			if r.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s: %s", path, r.Status, strings.TrimSpace(string(b)))
			}
			return nil
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		timed(&p.Get, func() error { _, err := h.Client.Get(ctx, campaign); return err })
		timed(&p.Describe, func() error {
			cp, err := h.Client.Get(ctx, campaign)
			if err != nil || cp.Status.Runs.Failed == 0 {
				return err
			}
			_, err = h.Client.Runs(ctx, campaign, "Failed", -1, 5)
			return err
		})
		timed(&p.Runs, func() error { _, err := h.Client.Runs(ctx, campaign, "", -1, 20); return err })
		timed(&p.Dashboard, page("/ui/api/campaigns/"+campaign))
		timed(&p.Overview, page("/ui/api/overview"))
		select {
		case <-ctx.Done():
			return p
		case <-t.C:
		}
	}
}
