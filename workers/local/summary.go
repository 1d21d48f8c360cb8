package local

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Print writes the end-of-campaign summary: counts, times, and for each
// failed run its reason and the tail of its stderr.
func (s *Summary) Print(w io.Writer, resultsDir string) {
	for _, f := range s.Failures {
		fmt.Fprintf(w, "\nrun %s FAILED (%s): %s\n", runList(f.Runs), f.attempts(), f.Reason)
		if tail := strings.TrimSpace(f.StderrTail); tail != "" {
			fmt.Fprintln(w, "  stderr (tail):")
			fmt.Fprintln(w, indent(lastN(tail, 15)))
		}
	}
	fmt.Fprintf(w, "\n%d runs: %d succeeded, %d failed, %d skipped (already complete)", s.Total, s.Succeeded, s.Failed, s.Skipped)
	if s.Interrupted {
		fmt.Fprintf(w, ", %d not run (interrupted)", s.Total-s.Succeeded-s.Failed-s.Skipped)
	}
	fmt.Fprintln(w)
	speedup := ""
	if s.Wall > 0 && s.CPU > 0 {
		speedup = fmt.Sprintf(" (%.1fx parallel speedup)", float64(s.CPU)/float64(s.Wall))
	}
	fmt.Fprintf(w, "wall time %s, simulation CPU time %s%s\n", s.Wall.Round(time.Millisecond), s.CPU.Round(time.Millisecond), speedup)
	fmt.Fprintf(w, "results in %s\n", resultsDir)
}

func lastN(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// outcome words a failure for the progress lines.
func (f Failure) outcome() string {
	if f.Attempts == 0 {
		return "not started"
	}
	return "failed after " + f.attempts()
}

// attempts words a failure's attempts for the summary.
func (f Failure) attempts() string {
	if f.Attempts == 0 {
		return "not started"
	}
	return fmt.Sprintf("%d attempt(s)", f.Attempts)
}
