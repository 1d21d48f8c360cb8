package local

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// plainEvery throttles progress lines when the output is not a terminal, so
// a 100,000-run campaign does not print 100,000 lines.
const plainEvery = 2 * time.Second

// progress shows how far a campaign is: a redrawn bar with ETA on a
// terminal, throttled plain lines otherwise. Failures are always printed.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	total int
	// done counts finished runs including skipped ones; skipped is fixed.
	done, failed, skipped int
	start, lastLine       time.Time
	quit                  chan struct{}
	wg                    sync.WaitGroup
}

func newProgress(w io.Writer, tty bool, total, skipped int) *progress {
	p := &progress{w: w, tty: tty, total: total, done: skipped, skipped: skipped, start: time.Now(), quit: make(chan struct{})}
	if w == nil {
		return p
	}
	if skipped > 0 {
		fmt.Fprintf(w, "%d of %d runs already complete, skipping them\n", skipped, total)
	}
	if tty {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					p.mu.Lock()
					p.draw()
					p.mu.Unlock()
				case <-p.quit:
					return
				}
			}
		}()
	}
	return p
}

func (p *progress) finished(n int, f *Failure, canceled bool) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if canceled {
		return
	}
	p.done += n
	if f != nil {
		p.failed += n
		if p.tty {
			fmt.Fprint(p.w, "\r\033[K")
		}
		fmt.Fprintf(p.w, "run %s %s: %s\n", runList(f.Runs), f.outcome(), f.Reason)
	}
	if p.tty {
		p.draw()
		return
	}
	if now := time.Now(); now.Sub(p.lastLine) >= plainEvery || p.done == p.total {
		p.lastLine = now
		fmt.Fprintln(p.w, p.line())
	}
}

// revoked reports a run counted as done before that failed after all.
func (p *progress) revoked(f *Failure) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed++
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "run %s failed: %s\n", runList(f.Runs), f.Reason)
}

func (p *progress) stop() {
	if p.w == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
	if p.tty {
		p.mu.Lock()
		p.draw()
		p.mu.Unlock()
		fmt.Fprintln(p.w)
	}
}

// draw repaints the terminal bar; callers hold mu.
func (p *progress) draw() {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = p.done * width / p.total
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	fmt.Fprintf(p.w, "\r\033[K[%s] %s", bar, p.line())
}

// line is the progress in words; callers hold mu.
func (p *progress) line() string {
	pct := 100.0
	if p.total > 0 {
		pct = float64(p.done) * 100 / float64(p.total)
	}
	s := fmt.Sprintf("%d/%d runs (%.0f%%)", p.done, p.total, pct)
	if p.failed > 0 {
		s += fmt.Sprintf(", %d failed", p.failed)
	}
	elapsed := time.Since(p.start)
	s += ", elapsed " + elapsed.Round(time.Second).String()
	if ranNow := p.done - p.skipped; ranNow > 0 && p.done < p.total {
		eta := time.Duration(float64(elapsed) / float64(ranNow) * float64(p.total-p.done))
		s += ", ETA " + eta.Round(time.Second).String()
	}
	return s
}

// runList writes run numbers compactly: "3" or "3,4,5".
func runList(runs []int) string {
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = fmt.Sprint(r)
	}
	return strings.Join(parts, ",")
}
