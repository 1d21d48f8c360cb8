package dashboard

import (
	"time"

	"github.com/simswarm/simswarm/api"
)

// Pace is how fast a campaign goes and when it should be done.
type Pace struct {
	// MeanDurationMS is the mean duration of its finished runs (0: none
	// finished yet, or the workers did not report durations).
	MeanDurationMS float64 `json:"meanDurationMs"`
	// PerMinute is how many runs finished per minute lately (within the
	// last five minutes).
	PerMinute float64 `json:"perMinute"`
	// ETASeconds estimates the time left; -1 when unknown (nothing runs and
	// nothing finished lately), 0 when nothing is left.
	ETASeconds float64 `json:"etaSeconds"`
	// ETABasis says how the ETA was found: "durations" (remaining runs ×
	// mean duration ÷ runs in flight) or "throughput".
	ETABasis string `json:"etaBasis,omitempty"`
}

// minRateWindow keeps a campaign that just started from showing an absurd
// rate from its first second.
const minRateWindow = 10 * time.Second

// pace estimates a campaign's pace from its counts (the reconciler's) and
// its runs in the index (nil: not indexed yet). Pure.
func pace(counts api.RunCounts, c *campaignRuns, at time.Time, started *time.Time) Pace {
	p := Pace{ETASeconds: -1}
	remaining := counts.Total - counts.Succeeded - counts.Failed - counts.Skipped
	if remaining <= 0 && counts.Total > 0 {
		p.ETASeconds = 0
	}
	if c == nil {
		return p
	}
	if c.durN > 0 {
		p.MeanDurationMS = float64(c.durSumMS) / float64(c.durN)
	}
	if c.recent > 0 {
		from := time.UnixMilli(c.firstFinish)
		if started != nil && started.Before(from) {
			from = *started
		}
		window := min(throughputWindow, max(at.Sub(from), minRateWindow))
		p.PerMinute = float64(c.recent) / window.Minutes()
	}
	if remaining <= 0 {
		return p
	}
	switch {
	case p.MeanDurationMS > 0 && counts.Running > 0:
		p.ETASeconds = float64(remaining) * p.MeanDurationMS / 1000 / float64(counts.Running)
		p.ETABasis = "durations"
	case p.PerMinute > 0:
		p.ETASeconds = float64(remaining) / p.PerMinute * 60
		p.ETABasis = "throughput"
	}
	return p
}
